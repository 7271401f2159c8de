/**
 * One log line per reason per window: a hostile peer that triggers the same refusal a million
 * times must not flood the log (or the disk). Suppressed lines are counted and reported on the
 * next line for that key.
 */
import type { Logger } from './log.js'

export const DEFAULT_LOG_WINDOW_MS = 10_000

export class RateLimitedLog {
  readonly #log: Logger
  readonly #windowMs: number
  readonly #last = new Map<string, { at: number; suppressed: number }>()

  constructor(log: Logger, windowMs = DEFAULT_LOG_WINDOW_MS) {
    this.#log = log
    this.#windowMs = windowMs
  }

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now()
    const entry = this.#last.get(key)
    if (entry !== undefined && now - entry.at < this.#windowMs) {
      entry.suppressed++
      return
    }
    const suppressed = entry?.suppressed ?? 0
    this.#last.set(key, { at: now, suppressed: 0 })
    // Bounded: one entry per distinct key, and keys are reason codes, not peer-chosen strings.
    if (this.#last.size > 1024) this.#last.clear()
    this.#log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message)
  }
}
