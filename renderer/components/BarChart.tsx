import { CATEGORIES } from '../../shared/events.ts';

export interface DayBar {
  /** `YYYY-MM-DD`, the viewer's day. */
  day: string;
  byCategory: Record<string, number>;
}

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 26, left: 36 };

/** A round number at or above `max` for the top of the scale, and the gridlines below it. */
function scale(max: number): number[] {
  if (max <= 4) return [0, 1, 2, 3, 4];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((f) => f * magnitude >= rough) ?? 10) * magnitude;
  return [0, 1, 2, 3, 4].map((i) => i * step);
}

/**
 * Events per day, stacked by category, drawn as plain SVG. The picture is for the eye; the same
 * numbers are in a table beside it for screen readers.
 */
export function BarChart({ days }: { days: readonly DayBar[] }) {
  const totals = days.map((d) => Object.values(d.byCategory).reduce((a, b) => a + b, 0));
  const ticks = scale(Math.max(0, ...totals));
  const top = ticks[ticks.length - 1] ?? 1;
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(22, slot * 0.7));
  const y = (value: number) => PAD.top + innerH - (value / top) * innerH;
  const labelEvery = Math.ceil(days.length / 8);
  const total = totals.reduce((a, b) => a + b, 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Events per day: ${total} in ${days.length} days`}>
        {ticks.map((tick) => (
          <g key={tick}>
            <line className="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text className="axis" x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
              {tick}
            </text>
          </g>
        ))}
        {days.map((day, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let base = 0;
          return (
            <g key={day.day}>
              {CATEGORIES.map((category) => {
                const count = day.byCategory[category] ?? 0;
                if (count === 0) return null;
                const rect = (
                  <rect
                    key={category}
                    className={`bar cat-${category.toLowerCase()}`}
                    x={x}
                    y={y(base + count)}
                    width={barW}
                    height={Math.max(1, y(base) - y(base + count))}
                    rx={2}
                  >
                    <title>{`${day.day}: ${count} ${category}`}</title>
                  </rect>
                );
                base += count;
                return rect;
              })}
              {i % labelEvery === 0 ? (
                <text className="axis" x={x + barW / 2} y={HEIGHT - 8} textAnchor="middle">
                  {day.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {CATEGORIES.map((category) => (
          <span key={category} className="legend-item">
            <span className={`swatch cat-${category.toLowerCase()}`} aria-hidden="true" />
            {category}
          </span>
        ))}
      </figcaption>
      <table className="visually-hidden">
        <caption>Events per day by category</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {CATEGORIES.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {days.map((day) => (
            <tr key={day.day}>
              <th scope="row">{day.day}</th>
              {CATEGORIES.map((c) => (
                <td key={c}>{day.byCategory[c] ?? 0}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
