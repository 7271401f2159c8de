/**
 * Byte helpers that never alias their input. `Buffer#slice` returns a view, not a copy, so
 * calling `.slice()` on bytes that may be a Buffer (a pooled TCP read, a caller's key) would keep
 * a window onto memory someone else reuses; these always copy into a fresh Uint8Array.
 */

export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
