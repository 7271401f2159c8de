/** Fixed-width text tables and number formats for benchmark output (stdout, readable in a log). */
import type { Spread } from './stats.js'

export type Cell = string | number

/** Prints a titled table with right-aligned numbers and left-aligned text. */
export function printTable(title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  const text = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] ?? '').length)))
  const line = (cells: readonly string[], numeric: (i: number) => boolean) =>
    `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`
  const isNumeric = (i: number) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number')
  console.log(`\n${title}`)
  console.log(line(headers, isNumeric))
  console.log(`|${widths.map((w, i) => (isNumeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`)
  for (const row of text) console.log(line(row, isNumeric))
}

/** Three significant digits, thousands separated: 123,456 / 12.3 / 0.0123. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toPrecision(3)
}

/** `1.23× [1.10–1.41]`: the median of paired ratios with min and max. */
export function formatSpread(s: Spread, suffix = '×'): string {
  return `${s.median.toFixed(2)}${suffix} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]`
}
