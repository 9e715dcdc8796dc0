import { h, svg } from './dom';

export interface Series {
  label: string;
  /** [epoch ms, value] in time order; null values leave a gap. */
  points: [number, number | null][];
  format: (v: number) => string;
  /** Fixed upper bound (1 for ratios); otherwise the data's maximum. */
  max?: number;
}

const W = 480;
const H = 160;
const PAD = { l: 60, r: 12, t: 12, b: 28 };

const clock = (t: number, seconds: boolean) => new Date(t).toISOString().slice(11, seconds ? 19 : 16);

/**
 * A line chart as plain SVG (no library, no inline style: colours come from the stylesheet).
 * Gaps in the data break the line; a lone point shows as a dot. The figure carries a text summary
 * for screen readers.
 */
export function lineChart(s: Series, range: { from: number; to: number }): HTMLElement {
  const values = s.points.map((p) => p[1]).filter((v): v is number => v !== null);
  const caption = h('figcaption', {}, s.label);
  if (!values.length) return h('figure', { class: 'chart chart--empty' }, caption, h('p', {}, 'No samples in this range.'));
  const max = s.max ?? (Math.max(...values) * 1.1 || 1);
  const x = (t: number) => PAD.l + ((t - range.from) / Math.max(1, range.to - range.from)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (Math.min(v, max) / max) * (H - PAD.t - PAD.b);

  const segments: string[] = [];
  const dots: SVGCircleElement[] = [];
  let run: [number, number][] = [];
  const flush = () => {
    if (run.length > 1) segments.push('M' + run.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join('L'));
    else if (run.length === 1) dots.push(svg('circle', { cx: run[0][0].toFixed(1), cy: run[0][1].toFixed(1), r: 3, class: 'chart__dot' }));
    run = [];
  };
  for (const [t, v] of s.points) {
    if (v === null) flush();
    else run.push([x(t), y(v)]);
  }
  flush();

  const grid = [0, 0.5, 1].map((f) => {
    const v = max * f;
    return svg(
      'g',
      {},
      svg('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'chart__grid' }),
      svg('text', { x: PAD.l - 6, y: y(v) + 4, class: 'chart__tick', 'text-anchor': 'end' }, s.format(v)),
    );
  });
  const ticks = [range.from, (range.from + range.to) / 2, range.to].map((t, i) =>
    svg(
      'text',
      { x: x(t), y: H - 8, class: 'chart__tick', 'text-anchor': ['start', 'middle', 'end'][i] },
      clock(t, range.to - range.from < 30 * 60_000),
    ),
  );
  const last = values[values.length - 1];
  const summary = `${s.label}: ${values.length} samples, minimum ${s.format(Math.min(...values))}, maximum ${s.format(Math.max(...values))}, latest ${s.format(last)}.`;
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, class: 'chart__svg' },
    ...grid,
    ...ticks,
    ...segments.map((d) => svg('path', { d, class: 'chart__line' })),
    ...dots,
  );
  return h('figure', { class: 'chart' }, caption, chart, h('p', { class: 'chart__latest' }, `Latest: ${s.format(last)}`));
}
