#!/usr/bin/env node
// Draws the app icon and the tray icons into build/ as PNG files, with nothing but node:zlib.
// The drawings are shapes in a 16-unit square (tray) or a 1024-unit square (app), sampled 4×4
// per pixel, so the 16 px and 32 px (@2x) tray images are the same picture at two sizes.
// Run: node scripts/draw-icons.mjs   (the PNGs are committed; run again after changing a shape)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---- PNG ----------------------------------------------------------------------------------

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** RGBA 8-bit, non-interlaced; each row starts with filter 0. */
export function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0;
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- Drawing ------------------------------------------------------------------------------

const SAMPLES = 4;

/** A canvas in design units (`units` across), `size` pixels wide, premultiplied floats. */
function canvas(size, units) {
  const pixels = new Float64Array(size * size * 4);
  const scale = units / size;
  const paint = (inside, color, erase = false) => {
    const [r, g, b, a = 1] = color ?? [0, 0, 0, 1];
    for (let py = 0; py < size; py++) {
      for (let px = 0; px < size; px++) {
        let hits = 0;
        for (let sy = 0; sy < SAMPLES; sy++) {
          for (let sx = 0; sx < SAMPLES; sx++) {
            const x = (px + (sx + 0.5) / SAMPLES) * scale;
            const y = (py + (sy + 0.5) / SAMPLES) * scale;
            if (inside(x, y)) hits++;
          }
        }
        if (hits === 0) continue;
        const coverage = hits / (SAMPLES * SAMPLES);
        const i = (py * size + px) * 4;
        if (erase) {
          for (let c = 0; c < 4; c++) pixels[i + c] *= 1 - coverage;
          continue;
        }
        const alpha = a * coverage;
        const fill = typeof r === 'function' ? r(px * scale, py * scale) : [r, g, b];
        for (let c = 0; c < 3; c++) pixels[i + c] = fill[c] * alpha + pixels[i + c] * (1 - alpha);
        pixels[i + 3] = alpha + pixels[i + 3] * (1 - alpha);
      }
    }
  };
  const toPng = () => {
    const out = Buffer.alloc(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      const alpha = pixels[i * 4 + 3];
      for (let c = 0; c < 3; c++) {
        out[i * 4 + c] = alpha > 0 ? Math.round(Math.min(1, pixels[i * 4 + c] / alpha) * 255) : 0;
      }
      out[i * 4 + 3] = Math.round(alpha * 255);
    }
    return encodePng(size, size, out);
  };
  return { paint, toPng };
}

// Shapes: functions (x, y) → inside?
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, r, width) => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  return d <= r && d >= r - width;
};
const segment = (ax, ay, bx, by, half) => (x, y) => {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) <= half;
};
const roundedRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.max(x0 + r, Math.min(x1 - r, x));
  const cy = Math.max(y0 + r, Math.min(y1 - r, y));
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const polygon = (points) => (x, y) => {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
const union =
  (...shapes) =>
  (x, y) =>
    shapes.some((shape) => shape(x, y));
const minus = (shape, cut) => (x, y) => shape(x, y) && !cut(x, y);

const hex = (text) => [1, 3, 5].map((i) => Number.parseInt(text.slice(i, i + 2), 16) / 255);

// ---- Tray icons (16 units) ----------------------------------------------------------------
// A page with a folded corner — the file SingleFile sends word about — and a badge for the state.

const page = polygon([
  [2, 1],
  [9, 1],
  [12.5, 4.5],
  [12.5, 15],
  [2, 15],
]);
const pageInner = polygon([
  [3.3, 2.3],
  [8.4, 2.3],
  [11.2, 5.1],
  [11.2, 13.7],
  [3.3, 13.7],
]);
const fold = polygon([
  [8.4, 1.5],
  [8.4, 5.1],
  [12, 5.1],
]);
const badgeClearance = circle(12, 12, 4.6);
const BADGES = {
  online: circle(12, 12, 3.4),
  connecting: ring(12, 12, 3.4, 1.3),
  offline: union(segment(9.7, 9.7, 14.3, 14.3, 0.75), segment(14.3, 9.7, 9.7, 14.3, 0.75)),
  paused: union(segment(10.6, 9.4, 10.6, 14.6, 0.8), segment(13.4, 9.4, 13.4, 14.6, 0.8)),
};
const COLORS = { online: '#2e9d4f', connecting: '#e69b00', offline: '#d93025', paused: '#6b778c' };

// The unread count on Windows and Linux (macOS writes it as the title beside the icon): a blue
// badge in the top-right corner with a 3×5 pixel digit, one design unit per font pixel, so each
// lit cell is exactly one pixel at 16 px and two at 32 px — no blur from anti-aliasing.
const UNREAD_BADGE_MAX = 9; // = UNREAD_BADGE_MAX in electron/tray-menu.ts
// The glyphs the badge needs: 1–9 and the "+" of "9+".
const FONT = {
  1: ['.#.', '##.', '.#.', '.#.', '###'],
  2: ['###', '..#', '###', '#..', '###'],
  3: ['###', '..#', '.##', '..#', '###'],
  4: ['#.#', '#.#', '###', '..#', '..#'],
  5: ['###', '#..', '###', '..#', '###'],
  6: ['###', '#..', '###', '#.#', '###'],
  7: ['###', '..#', '..#', '.#.', '.#.'],
  8: ['###', '#.#', '###', '#.#', '###'],
  9: ['###', '#.#', '###', '..#', '###'],
  '+': ['...', '.#.', '###', '.#.', '...'],
};
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x < x1 && y >= y0 && y < y1;

/** The glyphs of `text` side by side from (x, y), one unit between them. */
function pixelText(text, x, y) {
  const cells = [];
  [...text].forEach((char, i) => {
    FONT[char].forEach((row, dy) => {
      [...row].forEach((on, dx) => {
        const cx = x + i * 4 + dx;
        if (on === '#') cells.push(rect(cx, y + dy, cx + 1, y + dy + 1));
      });
    });
  });
  return union(...cells);
}

/** "1"…"9", then "9+" for more. */
function badgeText(unread) {
  return unread > UNREAD_BADGE_MAX ? `${UNREAD_BADGE_MAX}+` : String(unread);
}

/** A 7-unit square for one glyph (2 units either side), 9 units wide for "9+" (1 unit either side). */
function unreadBadge(text) {
  const glyphs = text.length * 4 - 1;
  const width = text.length === 1 ? 7 : 9;
  const left = 16 - width;
  return {
    clearance: roundedRect(left - 1, -1, 17, 8, 3.5),
    badge: roundedRect(left, 0, 16, 7, 2.5),
    digits: pixelText(text, left + (width - glyphs) / 2, 1),
  };
}

function trayIcon(state, size, { template = false, unread = 0 } = {}) {
  const c = canvas(size, 16);
  const ink = template ? [0, 0, 0, 1] : hex('#37474f');
  c.paint(minus(page, badgeClearance), ink);
  if (template) {
    // The page is an outline: macOS tints the opaque pixels, the inside stays the menu bar.
    c.paint(minus(pageInner, fold), null, true);
  } else {
    c.paint(minus(minus(pageInner, fold), badgeClearance), hex('#ffffff'));
  }
  c.paint(BADGES[state], template ? [0, 0, 0, 1] : hex(COLORS[state]));
  if (unread > 0) {
    const { clearance, badge, digits } = unreadBadge(badgeText(unread));
    c.paint(clearance, null, true);
    c.paint(badge, hex('#1a73e8'));
    c.paint(digits, hex('#ffffff'));
  }
  return c.toPng();
}

// ---- App icon (1024 units) ----------------------------------------------------------------

function appIcon(size) {
  const c = canvas(size, 1024);
  // macOS grid: an 824-unit body with room for the shadow the system adds.
  const top = hex('#2f80ed');
  const bottom = hex('#1a4fa3');
  const gradient = (_x, y) => top.map((v, i) => v + (bottom[i] - v) * Math.min(1, Math.max(0, (y - 100) / 824)));
  c.paint(roundedRect(100, 100, 924, 924, 185), [gradient, 0, 0, 1]);
  const sheet = polygon([
    [300, 220],
    [600, 220],
    [724, 344],
    [724, 804],
    [300, 804],
  ]);
  c.paint(sheet, hex('#ffffff'));
  c.paint(
    polygon([
      [600, 220],
      [600, 344],
      [724, 344],
    ]),
    hex('#c9d8f0'),
  );
  for (const [y, right] of [
    [430, 640],
    [510, 640],
    [590, 560],
  ]) {
    c.paint(segment(370, y, right, y, 22), hex('#b5c6e0'));
  }
  c.paint(circle(700, 720, 168), [...hex('#1a4fa3'), 1]);
  c.paint(circle(700, 720, 140), hex('#34a853'));
  c.paint(union(segment(632, 724, 680, 772, 22), segment(680, 772, 772, 664, 22)), hex('#ffffff'));
  return c.toPng();
}

// ---- Files --------------------------------------------------------------------------------

function write(path, png) {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, png);
  return path;
}

export function drawAll() {
  const written = [];
  written.push(write('build/icon.png', appIcon(1024)));
  written.push(write('build/tray/app.png', appIcon(256)));
  for (const state of Object.keys(BADGES)) {
    // macOS: black templates, 16 pt and @2x; the system tints them for the menu bar.
    written.push(write(`build/tray/${state}Template.png`, trayIcon(state, 16, { template: true })));
    written.push(write(`build/tray/${state}Template@2x.png`, trayIcon(state, 32, { template: true })));
    // Windows and Linux: colour, without a badge and with each count it can show ("9+" is
    // `-9plus`); @2x for high-DPI screens. Names as electron/tray-menu.ts trayIconFile() picks them.
    for (let unread = 0; unread <= UNREAD_BADGE_MAX + 1; unread++) {
      const name = unread === 0 ? state : `${state}-${badgeText(unread).replace('+', 'plus')}`;
      written.push(write(`build/tray/${name}.png`, trayIcon(state, 16, { unread })));
      written.push(write(`build/tray/${name}@2x.png`, trayIcon(state, 32, { unread })));
    }
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const path of drawAll()) process.stdout.write(`${path}\n`);
}
