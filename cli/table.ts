/**
 * The CLI's aligned text tables: columns padded to their widest cell, two spaces apart, the last
 * column left unpadded (it holds free text), one line per row and a final newline.
 */

/** Rows (the header first) as aligned text. */
export function alignedTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}
