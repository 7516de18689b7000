/** A plain aligned table; on a terminal, the widest columns are cut to fit its width. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidth?: number,
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  if (maxWidth !== undefined) {
    const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
    while (total() > maxWidth) {
      const widest = widths.indexOf(Math.max(...widths));
      if ((widths[widest] ?? 0) <= 8) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
  const cell = (text: string, i: number) => {
    const w = widths[i] ?? 0;
    return (text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text).padEnd(w);
  };
  return [headers, ...rows]
    .map((r) => r.map(cell).join('  ').trimEnd())
    .join('\n')
    .concat('\n');
}
