/**
 * Line charts for the benchmark's curves: an SVG drawn here (axes with ticks and units, a log or linear x
 * axis, one line with markers per series, a legend), rendered to PNG by Debian's chromium through
 * playwright-core (testkit/browser.ts finds it; no other dependency).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../testkit/browser.ts';

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  /** Drawn dashed (a baseline). */
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Log-scaled x axis (base 10); every x must be > 0. */
  xLog?: boolean;
  /** Log-scaled y axis (base 10); every y must be > 0. */
  yLog?: boolean;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number as a tick label: 1,000 → "1K", 1,000,000 → "1M", small ones with what precision they need. */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6 && Number.isInteger(v / 1e6)) return `${v / 1e6}M`;
  if (a >= 1e4 && Number.isInteger(v / 1e3)) return `${v / 1e3}K`;
  if (a >= 1000 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(2)));
}

/** Tick values for [lo, hi]: powers of ten on a log axis, 4-8 round steps on a linear one (whole steps when `integer`). */
export function ticks(lo: number, hi: number, log: boolean, integer = false): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out;
  }
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const round = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const step = integer ? Math.max(1, Math.ceil(round)) : round;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  if ((out[out.length - 1] ?? lo) < hi) out.push((out[out.length - 1] ?? lo) + step);
  return out;
}

/** The chart as an SVG document. Throws on an empty chart or a non-positive value on a log axis. */
export function lineChartSvg(c: ChartSpec): string {
  const all = c.series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`chart "${c.title}": no points`);
  for (const [x, y] of all) {
    if (!Number.isFinite(x) || !Number.isFinite(y))
      throw new Error(`chart "${c.title}": a point is not finite`);
    if ((c.xLog && x <= 0) || (c.yLog && y <= 0))
      throw new Error(`chart "${c.title}": a log axis needs values above 0`);
  }
  const W = c.width ?? 800;
  const H = c.height ?? 480;
  const m = { left: 90, right: 45, top: 50, bottom: 70 };
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xt = ticks(Math.min(...xs), Math.max(...xs), c.xLog === true, xs.every(Number.isInteger));
  // Headroom above the highest point (a quarter of the range, a power of ten on a log axis) for the legend.
  const yMax = Math.max(...ys);
  const yMin = c.yLog ? Math.min(...ys) : Math.min(0, ...ys);
  const yt = ticks(
    yMin,
    c.yLog ? yMax * 10 ** (0.3 * c.series.length) : yMax + (yMax - yMin) * 0.08 * (c.series.length + 1),
    c.yLog === true,
  );
  const f = (log: boolean | undefined) => (v: number) => (log ? Math.log10(v) : v);
  const fx = f(c.xLog);
  const fy = f(c.yLog);
  const [x0, x1] = [fx(xt[0] as number), fx(xt[xt.length - 1] as number)];
  const [y0, y1] = [fy(yt[0] as number), fy(yt[yt.length - 1] as number)];
  const px = (v: number) => m.left + ((fx(v) - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const py = (v: number) => H - m.bottom - ((fy(v) - y0) / (y1 - y0 || 1)) * (H - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">${escapeXml(c.title)}</text>`,
  ];
  for (const v of xt) {
    const x = px(v).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${H - m.bottom}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${H - m.bottom + 20}" text-anchor="middle" font-size="13">${tickLabel(v)}</text>`,
    );
  }
  for (const v of yt) {
    const y = py(v).toFixed(1);
    out.push(
      `<line x1="${m.left}" y1="${y}" x2="${W - m.right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="13">${tickLabel(v)}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 22}" text-anchor="middle" font-size="15">${escapeXml(c.xLabel)}</text>`,
    `<text transform="translate(22 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="15">${escapeXml(c.yLabel)}</text>`,
  );
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    out.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="8 5"' : ''}/>`,
      ...s.points.map(
        ([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="${color}"/>`,
      ),
    );
    const ly = m.top + 8 + i * 20;
    const lx = m.left + 16;
    out.push(
      `<rect x="${lx - 6}" y="${ly - 10}" width="${Math.max(...c.series.map((t) => t.name.length)) * 8 + 50}" height="20" fill="white" opacity="0.85"/>`,
      `<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="8 5"' : ''}/>`,
      `<text x="${lx + 34}" y="${ly}" dominant-baseline="middle" font-size="13">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Renders each chart to a PNG at its path (directories made as needed), in one headless chromium. */
export async function renderPngs(charts: readonly { path: string; spec: ChartSpec }[]): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const page = await browser.newPage();
    for (const { path, spec } of charts) {
      const svg = lineChartSvg(spec);
      await page.setViewportSize({ width: spec.width ?? 800, height: spec.height ?? 480 });
      await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
      await mkdir(dirname(path), { recursive: true });
      await page.locator('svg').screenshot({ path });
    }
  } finally {
    await browser.close();
  }
}
