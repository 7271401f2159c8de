/** Text output helpers of the identity, credential and policy commands. */

/** Unix seconds as an ISO 8601 UTC time. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString()
}

/** Unix ms as an ISO 8601 UTC time. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString()
}

/**
 * Control characters (C0, DEL, C1), line and paragraph separators, bidi embeddings, overrides
 * and isolates: anything that could break a line or steer a terminal.
 */
function isUnsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  )
}

/**
 * A peer-supplied string (an attribute name or value) made safe for one line of terminal
 * output: shown as is when harmless, else JSON-quoted so escapes cannot reach the terminal.
 */
export function safeText(text: string): string {
  let unsafe = text.startsWith('"')
  for (let i = 0; i < text.length && !unsafe; i++) unsafe = isUnsafe(text.charCodeAt(i))
  if (!unsafe) return text
  // JSON.stringify escapes C0 controls but passes DEL, C1 controls and the rest through.
  let quoted = ''
  for (const char of JSON.stringify(text)) {
    const code = char.charCodeAt(0)
    quoted += isUnsafe(code) ? `\\u${code.toString(16).padStart(4, '0')}` : char
  }
  return quoted
}

/** Attributes as `name=value` lines (indented), or `(none)`. */
export function attributeLines(attributes: ReadonlyMap<string, string>, indent = '  '): string[] {
  if (attributes.size === 0) return [`${indent}(none)`]
  return [...attributes].map(([name, value]) => `${indent}${safeText(name)}=${safeText(value)}`)
}

/** Attributes as a plain JSON object (own properties only, so `__proto__` stays data). */
export function attributesJson(attributes: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries(attributes)
}

/** Rows padded into columns (two spaces apart); the last column is not padded. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length)
    })
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
