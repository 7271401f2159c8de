/** Character classes shared by the two parsers, on UTF-16 code units (-1 = end of text). */

export const EOF = -1
export const OPEN = 0x28 // (
export const CLOSE = 0x29 // )
export const OPEN_LIST = 0x5b // [
export const CLOSE_LIST = 0x5d // ]
export const COMMA = 0x2c
export const QUOTE = 0x22
export const BACKSLASH = 0x5c
export const DOT = 0x2e
export const MINUS = 0x2d

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}

/** Ends a word or number in the S-expression form. */
export function isDelimiter(c: number): boolean {
  return (
    c === EOF ||
    isSpace(c) ||
    c === OPEN ||
    c === CLOSE ||
    c === OPEN_LIST ||
    c === CLOSE_LIST ||
    c === COMMA ||
    c === QUOTE
  )
}

/** First character of an attribute name: letter, digit or `_`. */
export function isNameStart(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 0x5f
}

/** Later characters of an attribute name: also `-`, `.` and `:`. */
export function isNameChar(c: number): boolean {
  return isNameStart(c) || c === MINUS || c === DOT || c === 0x3a
}

/** Characters of a short-form word (`key` or `key.value`): name characters and `* / @ +`. */
export function isWordChar(c: number): boolean {
  return isNameChar(c) || c === 0x2a || c === 0x2f || c === 0x40 || c === 0x2b
}

/** Control characters are refused in strings so a policy always prints on a terminal as written. */
export function isControl(c: number): boolean {
  return c < 0x20 || c === 0x7f
}
