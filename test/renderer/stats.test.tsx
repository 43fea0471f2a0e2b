import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../../renderer/App.tsx';
import { fillDays } from '../../renderer/views/Stats.tsx';
import type { Stats } from '../../shared/api.ts';
import { createFakeMonitor } from './fake-monitor.ts';

describe('fillDays', () => {
  it('gives every day of the period, oldest first, with missing days as zero', () => {
    const days = fillDays([{ day: '2024-01-14', byCategory: { Orders: 2 } }], 3, new Date(2024, 0, 15, 13));
    expect(days).toEqual([
      { day: '2024-01-13', byCategory: {} },
      { day: '2024-01-14', byCategory: { Orders: 2 } },
      { day: '2024-01-15', byCategory: {} },
    ]);
  });
});

describe('Stats view', () => {
  it('shows totals, duplicates, rejected deliveries, last event, tunnel uptime and a chart per day', async () => {
    window.location.hash = '#/stats';
    const fake = createFakeMonitor();
    const today = new Date();
    const day = (back: number) => {
      const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    };
    fake.api.getStats = async (request) => {
      fake.calls.push({ method: 'getStats', request });
      const days: Stats['days'] = [
        { day: day(1), byCategory: { Orders: 3, Documents: 1 } },
        { day: day(0), byCategory: { Entities: 2 } },
      ];
      return {
        days,
        total: 6,
        byCategory: { Orders: 3, Documents: 1, Entities: 2 },
        duplicates: 4,
        rejected: 2,
        failed: 1,
        lastEventAt: '2024-01-15T10:30:00.000Z',
        tunnel: { onlineMs: 45 * 60_000, runningMs: 60 * 60_000 },
      };
    };
    const { container } = render(<App transport={fake.transport} />);
    expect(await screen.findByText('Duplicates')).toBeTruthy();
    const tiles = Object.fromEntries(
      [...container.querySelectorAll('.tile')].map((t) => [
        t.querySelector('.tile-label')?.textContent,
        t.querySelector('.tile-value')?.textContent,
      ]),
    );
    expect(tiles).toMatchObject({
      'Events in history': '6',
      Duplicates: '4',
      'Rejected deliveries': '2',
      'Tunnel uptime': '75%',
    });
    expect(screen.getByText(/1 could not be stored/)).toBeTruthy();
    // The viewer's own days.
    expect(fake.callsTo('getStats')).toEqual([{ days: 30, tzOffsetMinutes: -new Date().getTimezoneOffset() }]);
    // One bar segment per category and day with events; the same numbers in a table for screen readers.
    expect(container.querySelectorAll('rect.bar')).toHaveLength(3);
    expect(screen.getByRole('img', { name: 'Events per day: 6 in 30 days' })).toBeTruthy();
    const table = screen.getByRole('table', { name: 'Events per day by category' });
    expect(table.querySelectorAll('tbody tr')).toHaveLength(30);
  });
});
