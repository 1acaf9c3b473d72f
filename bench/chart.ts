// A small SVG bar chart of Stageline's throughput as a share of the baseline, per scenario,
// with the 70 % (reads) and 30 % (writes) targets drawn across.
interface Row {
  name: string;
  kind: 'read' | 'write';
  database: 'small' | 'scale' | 'postgres';
  ratio: number;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(rows: readonly Row[]): string {
  const barHeight = 22;
  const gap = 8;
  const left = 250;
  const width = 760;
  const plot = width - left - 60;
  const top = 40;
  const height = top + rows.length * (barHeight + gap) + 40;
  const max = Math.max(1, ...rows.map((r) => r.ratio));
  const x = (ratio: number) => left + (ratio / max) * plot;
  const bars = rows
    .map((r, i) => {
      const y = top + i * (barHeight + gap);
      const colour = r.kind === 'read' ? '#3b82f6' : '#f59e0b';
      const label = `${r.name} (${r.database})`;
      return [
        `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escape(label)}</text>`,
        `<rect x="${left}" y="${y}" width="${Math.max(1, x(r.ratio) - left)}" height="${barHeight}" fill="${colour}"/>`,
        `<text x="${x(r.ratio) + 4}" y="${y + 15}" font-size="12">${Math.round(r.ratio * 100)}%</text>`,
      ].join('');
    })
    .join('\n');
  const line = (ratio: number, text: string) =>
    `<line x1="${x(ratio)}" y1="${top - 6}" x2="${x(ratio)}" y2="${height - 30}" stroke="#111" stroke-dasharray="4 3"/>` +
    `<text x="${x(ratio)}" y="${height - 14}" text-anchor="middle" font-size="11">${text}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="14" font-weight="bold">Stageline throughput as a share of a bare Fastify baseline (blue: reads, orange: writes)</text>
${bars}
${line(0.3, 'write target 30%')}
${line(0.7, 'read target 70%')}
${line(1, 'baseline')}
</svg>
`;
}
