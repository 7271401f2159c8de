import { POLICY_NUMBER_MAX_DIGITS } from './constants.js'

/**
 * Canonical decimals: the one spelling of each number we accept, in policy texts and in
 * attributes alike. No sign on zero, no leading zeros, no trailing fraction zeros, no exponent,
 * at most POLICY_NUMBER_MAX_DIGITS digits. Because the spelling is unique, string equality of
 * two canonical numbers is numeric equality, and "10" never quietly equals "10.0".
 */
const CANONICAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/

// Sign, point and the maximum digits: anything longer is refused before the regex runs.
const MAX_CANONICAL_LENGTH = POLICY_NUMBER_MAX_DIGITS + 2

export function countDigits(text: string): number {
  let digits = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x30 && c <= 0x39) digits++
  }
  return digits
}

/** True when `text` is a canonical decimal (so an attribute holding it counts as a number). */
export function isCanonicalNumber(text: string): boolean {
  return (
    text.length <= MAX_CANONICAL_LENGTH &&
    CANONICAL.test(text) &&
    text !== '-0' &&
    countDigits(text) <= POLICY_NUMBER_MAX_DIGITS
  )
}

/**
 * The canonical spelling of `value`. JavaScript's shortest round-trip form is already canonical
 * for numbers of at most 15 digits, except that it switches to an exponent below 1e-6.
 */
export function formatNumber(value: number): string {
  const text = String(value)
  const e = text.indexOf('e-')
  if (e < 0) return text
  const negative = text.startsWith('-')
  const mantissa = text.slice(negative ? 1 : 0, e).replace('.', '')
  const exponent = Number(text.slice(e + 2))
  return `${negative ? '-' : ''}0.${'0'.repeat(exponent - 1)}${mantissa}`
}

/** True when `value` may appear in a policy: finite, not -0, canonical within the digit limit. */
export function isPolicyNumber(value: number): boolean {
  if (!Number.isFinite(value) || Object.is(value, -0)) return false
  const text = formatNumber(value)
  return isCanonicalNumber(text) && Number(text) === value
}
