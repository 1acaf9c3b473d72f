// A small SVG bar chart of Stageline's throughput as a share of its baseline, per scenario: reads
// against bare Fastify serving the same bytes, writes (and the mix) against Fastify that syncs
// each write to a file first. The read and write targets are drawn across.
interface Row {
  name: string;
  kind: 'read' | 'write' | 'mix';
  against: 'bare' | 'durable' | 'postgres';
  database: 'small' | 'scale' | 'postgres';
  ratio: number;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLOURS = { read: '#3b82f6', write: '#f59e0b', mix: '#a855f7' } as const;

export function renderChart(rows: readonly Row[], targets: { read: number; write: number }): string {
  const barHeight = 22;
  const gap = 8;
  const left = 330;
  const width = 860;
  const plot = width - left - 60;
  const top = 74;
  const height = top + rows.length * (barHeight + gap) + 44;
  const max = Math.max(1.1, ...rows.map((r) => r.ratio));
  const x = (ratio: number) => left + (ratio / max) * plot;
  const bars = rows
    .map((r, i) => {
      const y = top + i * (barHeight + gap);
      const label = `${r.name} (${r.database}, vs ${r.against})`;
      return [
        `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escape(label)}</text>`,
        `<rect x="${left}" y="${y}" width="${Math.max(1, x(r.ratio) - left)}" height="${barHeight}" fill="${COLOURS[r.kind]}"/>`,
        `<text x="${x(r.ratio) + 4}" y="${y + 15}" font-size="12">${Math.round(r.ratio * 100)}%</text>`,
      ].join('');
    })
    .join('\n');
  const line = (ratio: number, text: string, row: number) =>
    `<line x1="${x(ratio)}" y1="${top - 6}" x2="${x(ratio)}" y2="${height - 34}" stroke="#111" stroke-dasharray="4 3"/>` +
    `<text x="${x(ratio)}" y="${height - 20 + row * 13}" text-anchor="middle" font-size="11">${text}</text>`;
  const percent = (r: number) => `${Math.round(r * 100)}%`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="14" font-weight="bold">Stageline throughput as a share of its baseline in the same rounds</text>
<text x="10" y="40" font-size="12">blue: reads, against bare Fastify sending the same bytes (bare)</text>
<text x="10" y="56" font-size="12">orange: writes, purple: the 90/10 mix, against Fastify answering each write after a group-committed fdatasync (durable)</text>
${bars}
${line(targets.read, `read target ${percent(targets.read)} of bare`, 0)}
${line(targets.write, `write target ${percent(targets.write)} of durable`, 1)}
${line(1, 'baseline', 0)}
</svg>
`;
}
