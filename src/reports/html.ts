/**
 * A report as a printable HTML document: one self-contained page (inline CSS, no script, no
 * external asset), laid out for A4 so a browser's "Print → Save as PDF" gives the PDF. The
 * checkpoint it was computed against is printed in full, so the paper copy can be checked too.
 */
import type { ReportEnvelope, ReportTable } from './types.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);

const CSS = `
@page { size: A4; margin: 15mm; }
body { font: 10pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 14pt 0 4pt; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
tr { page-break-inside: avoid; } thead { display: table-header-group; }
th, td { border: 1px solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #444; } pre { font-size: 8pt; background: #f6f6f6; padding: 4pt; white-space: pre-wrap; word-break: break-all; }
.empty { color: #666; font-style: italic; }`;

function table(t: ReportTable): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows.length
    ? t.rows
        .map(
          (r) =>
            `<tr>${r.map((c) => (typeof c === 'number' ? `<td class="n">${c.toLocaleString('en-US')}</td>` : `<td>${escapeHtml(c ?? '—')}</td>`)).join('')}</tr>`,
        )
        .join('\n')
    : `<tr><td class="empty" colspan="${t.columns.length}">none</td></tr>`;
  return `<h2>${escapeHtml(t.heading)}</h2>${t.note ? `<p>${escapeHtml(t.note)}</p>` : ''}
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>`;
}

export function renderHtml(env: ReportEnvelope, tables: readonly ReportTable[]): string {
  const params = Object.entries(env.params).filter(([, v]) => v !== undefined);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(env.title)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(env.title)}</h1>
<p class="meta">Generated ${escapeHtml(env.generatedAt)}${params.length ? ` · ${params.map(([k, v]) => `${escapeHtml(k)} = ${escapeHtml(v!)}`).join(' · ')}` : ''}<br>
Computed against checkpoint ${env.checkpoint.size} of ${escapeHtml(env.checkpoint.origin)} (root ${escapeHtml(env.checkpoint.rootHash)}, signed ${escapeHtml(env.checkpoint.signedAt)}).</p>
${tables.map(table).join('\n')}
<h2>Checkpoint</h2>
<p>Save this signed note as a file and check it with <code>shekara verify</code> against the log's key.</p>
<pre>${escapeHtml(env.checkpoint.note)}</pre>
</body></html>
`;
}
