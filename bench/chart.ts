/**
 * The at-a-glance chart: QoS 1 throughput bars on the left, end-to-end latency percentiles on
 * the right (log scale, since the two brokers can be orders of magnitude apart). Drawn as SVG
 * by hand and rendered with resvg, so no browser or canvas library is needed.
 */
import { Resvg } from '@resvg/resvg-js';
import type { Summary } from './summary.js';

const W = 1000;
const H = 480;
const COLORS = { shekara: '#1f6f8b', mosquitto: '#e07b39' } as const;
const FONT = 'DejaVu Sans';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const text = (
  x: number,
  y: number,
  s: string,
  o: { size?: number; anchor?: string; weight?: string; fill?: string } = {},
) =>
  `<text x="${x}" y="${y}" font-family="${FONT}" font-size="${o.size ?? 13}" text-anchor="${o.anchor ?? 'middle'}" font-weight="${o.weight ?? 'normal'}" fill="${o.fill ?? '#222'}">${esc(s)}</text>`;
const num = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

function throughputPanel(s: Summary, x0: number, y0: number, w: number, h: number): string {
  const vals = [
    ['Shekara', s.throughput.shekara, COLORS.shekara],
    ['Mosquitto', s.throughput.mosquitto, COLORS.mosquitto],
  ] as const;
  // A round axis step (1, 2 or 5 × 10^n) so tick labels read as plain numbers.
  const raw = (Math.max(1, ...vals.map((v) => v[1] || 0)) * 1.15) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 3, 4, 5, 10].map((m) => m * mag).find((x) => x >= raw)!;
  const max = step * 4;
  const out = [
    text(x0 + w / 2, y0 - 40, 'QoS 1 ingest throughput', { size: 15, weight: 'bold' }),
    text(x0 + w / 2, y0 - 22, 'msgs/s acknowledged at max rate (mean of rounds); higher is better', {
      size: 11,
      fill: '#555',
    }),
  ];
  for (let i = 0; i <= 4; i++) {
    const y = y0 + h - (h * i) / 4;
    out.push(
      `<line x1="${x0}" x2="${x0 + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      text(x0 - 6, y + 4, num((max * i) / 4), { anchor: 'end', size: 11, fill: '#666' }),
    );
  }
  const bw = w / 5;
  vals.forEach(([label, v, color], i) => {
    const bh = ((v || 0) / max) * h;
    const x = x0 + bw * (1 + i * 2);
    out.push(
      `<rect x="${x}" y="${y0 + h - bh}" width="${bw}" height="${bh}" fill="${color}"/>`,
      text(x + bw / 2, y0 + h - bh - 6, Number.isFinite(v) ? num(v) : 'n/a', { weight: 'bold' }),
      text(x + bw / 2, y0 + h + 18, label),
    );
  });
  out.push(
    text(x0 + w / 2, y0 + h + 42, `Shekara / Mosquitto = ${Number.isFinite(s.ratio) ? s.ratio.toFixed(2) : 'n/a'}`, {
      size: 14,
      weight: 'bold',
    }),
  );
  return out.join('\n');
}

function latencyPanel(s: Summary, rate: number, x0: number, y0: number, w: number, h: number): string {
  const keys = [
    ['p50', 'p50'],
    ['p99', 'p99'],
    ['p999', 'p99.9'],
  ] as const;
  const all = (['shekara', 'mosquitto'] as const)
    .flatMap((t) => keys.map(([k]) => s.latency[t][k]))
    .filter((v): v is number => v !== null);
  const top = Math.max(100, ...all) * 2;
  const lo = 0.5; // log axis from 0.5 ms: a 0 ms reading (same-millisecond delivery) still shows
  const y = (v: number) => y0 + h - (Math.log10(Math.max(lo, v) / lo) / Math.log10(top / lo)) * h;
  const out = [
    text(x0 + w / 2, y0 - 40, `End-to-end latency at ${num(rate)} msgs/s, car → consumer`, {
      size: 15,
      weight: 'bold',
    }),
    text(x0 + w / 2, y0 - 22, 'ms, log scale, worst round; lower is better; dashed: aim p99 ≤ 50 ms', {
      size: 11,
      fill: '#555',
    }),
  ];
  for (let p = 0; 10 ** p <= top; p++) {
    out.push(
      `<line x1="${x0}" x2="${x0 + w}" y1="${y(10 ** p)}" y2="${y(10 ** p)}" stroke="#ddd"/>`,
      text(x0 - 6, y(10 ** p) + 4, num(10 ** p), { anchor: 'end', size: 11, fill: '#666' }),
    );
  }
  out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y(50)}" y2="${y(50)}" stroke="#c0392b" stroke-dasharray="6 4"/>`);
  const gw = w / keys.length;
  const bw = gw / 3.2;
  keys.forEach(([k, label], gi) => {
    (['shekara', 'mosquitto'] as const).forEach((t, ti) => {
      const v = s.latency[t][k];
      const x = x0 + gi * gw + gw / 2 - bw + ti * bw;
      const yv = v === null ? y0 : y(v);
      out.push(
        `<rect x="${x + 2}" y="${yv}" width="${bw - 4}" height="${y0 + h - yv}" fill="${COLORS[t]}" ${v === null ? 'fill-opacity="0.35"' : ''}/>`,
        ...(v === null
          ? [
              text(x + bw / 2, y0 + 16, 'not all', { size: 10, weight: 'bold' }),
              text(x + bw / 2, y0 + 29, 'delivered', { size: 10, weight: 'bold' }),
            ]
          : [text(x + bw / 2, yv - 5, num(v), { size: 12, weight: 'bold' })]),
      );
    });
    out.push(text(x0 + gi * gw + gw / 2, y0 + h + 18, label));
  });
  return out.join('\n');
}

export function renderChart(s: Summary, takenAt: string, rate: number): Buffer {
  const legend = (['shekara', 'mosquitto'] as const)
    .map(
      (t, i) =>
        `<rect x="${230 + i * 340}" y="${H - 30}" width="14" height="14" fill="${COLORS[t]}"/>${text(250 + i * 340, H - 18, t === 'shekara' ? 'Shekara (durable store + policy + egress)' : 'Mosquitto 2.0 (pass-through + 1 subscriber)', { anchor: 'start', size: 12 })}`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="100%" height="100%" fill="white"/>
${text(W / 2, 26, `Shekara vs Mosquitto — measured ${takenAt.replace('T', ' ').slice(0, 16)} UTC on one 2-core machine (generator, broker and receiver together)`, { size: 16, weight: 'bold' })}
${throughputPanel(s, 80, 100, 330, 270)}
${latencyPanel(s, rate, 520, 100, 450, 270)}
${legend}
</svg>`;
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: FONT }, background: 'white' })
    .render()
    .asPng();
}
