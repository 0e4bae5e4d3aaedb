/**
 * The results as an SVG bar chart: one bar per ratio (ours / C), with the 1.0 line. For wall
 * and CPU a bar under the line is better; for LZO throughput a bar over 0.5 meets the target.
 */

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** The value that meets the target, drawn as a tick on the bar. */
  readonly target: number;
  readonly lowerIsBetter: boolean;
}

export function barChart(title: string, bars: readonly Bar[]): string {
  const width = 760;
  const rowHeight = 26;
  const left = 230;
  const top = 40;
  // Ratios past 4 would squash the rest; such a bar is drawn to the edge with its value beside it.
  const max = Math.min(4, Math.max(2, ...bars.map((bar) => bar.value))) * 1.1;
  const x = (value: number) => left + (Math.max(0, Math.min(value, max)) / max) * (width - left - 60);
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const good = bar.lowerIsBetter ? bar.value <= bar.target : bar.value >= bar.target;
    return [
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end">${bar.label}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(bar.value) - left).toFixed(1)}" height="16" fill="${good ? "#2e7d32" : "#c62828"}"/>`,
      `<line x1="${x(bar.target).toFixed(1)}" x2="${x(bar.target).toFixed(1)}" y1="${y + 1}" y2="${y + 23}" stroke="#333" stroke-dasharray="2,2"/>`,
      `<text x="${(x(bar.value) + 6).toFixed(1)}" y="${y + 16}">${bar.value.toFixed(2)}</text>`,
    ].join("");
  });
  const height = top + bars.length * rowHeight + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img">
<title>${title}</title>
<text x="10" y="22" font-size="15" font-weight="bold">${title}</text>
<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${top - 6}" y2="${height - 24}" stroke="#000"/>
<text x="${x(1).toFixed(1)}" y="${height - 10}" text-anchor="middle">1.0</text>
${rows.join("\n")}
</svg>
`;
}
