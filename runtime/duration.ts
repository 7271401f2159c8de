/**
 * Durations as people write them on command lines and in configs: a whole number and a unit,
 * `90s`, `15m`, `1h`, `30d`. One unit, no fractions, no spaces, no leading zeros: one text per
 * duration, and nothing that could be misread (`1.5h`, `1h30m`, `1e3s` are refused).
 */
import { OckamError } from './errors.js'

const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const

/** At most 10 digits, checked before any arithmetic: 9,999,999,999 d still fits a safe integer. */
const DURATION = /^([1-9][0-9]{0,9})([smhd])$/

/** Longest text looked at; anything longer is refused without scanning it. */
const MAX_DURATION_TEXT = 16

export interface DurationBounds {
  /** Smallest accepted, in seconds (default 1). */
  readonly minSeconds?: number
  /** Largest accepted, in seconds (default unbounded). */
  readonly maxSeconds?: number
}

/** Seconds in `text`; throws OCKAM_ERR_DURATION_INVALID (a malformed text or one out of bounds). */
export function parseDuration(text: string, bounds: DurationBounds = {}): number {
  const match = typeof text === 'string' && text.length <= MAX_DURATION_TEXT ? DURATION.exec(text) : null
  if (match === null) {
    const shown = typeof text === 'string' ? JSON.stringify(text.slice(0, MAX_DURATION_TEXT + 4)) : typeof text
    throw new OckamError('OCKAM_ERR_DURATION_INVALID', `${shown} is not a duration`, {
      hint: 'write a whole number and one unit: 90s, 15m, 1h, 30d',
    })
  }
  const seconds = Number(match[1]) * UNITS[match[2] as keyof typeof UNITS]
  const min = bounds.minSeconds ?? 1
  const max = bounds.maxSeconds ?? Number.MAX_SAFE_INTEGER
  if (seconds < min || seconds > max) {
    throw new OckamError('OCKAM_ERR_DURATION_INVALID', `${text} is out of range`, {
      hint: `give between ${formatDuration(min)} and ${formatDuration(max)}`,
      data: { seconds, minSeconds: min, maxSeconds: max },
    })
  }
  return seconds
}

/** `seconds` as a duration text in the largest unit that divides it (what parseDuration reads back, up to 10 digits). */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a duration is a whole number of seconds >= 1')
  }
  for (const unit of ['d', 'h', 'm'] as const) {
    if (seconds % UNITS[unit] === 0) return `${seconds / UNITS[unit]}${unit}`
  }
  return `${seconds}s`
}
