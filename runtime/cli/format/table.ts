/** Plain-text tables for human output: columns padded to the widest cell, no colour. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** `bytesIn=12 connections=1` from a counters object. */
export function formatCounters(counters: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counters)
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(' ')
}
