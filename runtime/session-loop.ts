/**
 * The two halves every session object shares (DESIGN §12 "Sessions and recovery": one owner of
 * liveness per logical path): a loop that runs an attempt, and after it ends backs off with
 * jitter and runs the next one until stopped; and a keep-alive that pings at an interval and
 * gives up after a number of misses in a row. The relay session and the inlet's route session
 * are built from them; what an attempt opens and what a ping is stay theirs.
 */
import { type Backoff, sleep } from './backoff.js'
import type { OckamError } from './errors.js'

export interface RetryLoopOptions {
  /** Ends the loop (between attempts, or the current one through its cycle signal). */
  readonly stop: AbortSignal
  readonly backoff: Backoff
  /**
   * One attempt: opens what it needs, reports it up, and returns or throws once it is lost. Its
   * signal aborts when the loop stops; it cleans up what it opened before it settles.
   */
  readonly attempt: (cycle: AbortController) => Promise<void>
  /** After an attempt ended (not because the loop stopped), before the backoff. */
  readonly onEnded: (error: unknown) => void
}

/** Runs attempts until `stop` aborts; resolves then. */
export async function runRetryLoop(options: RetryLoopOptions): Promise<void> {
  const { stop, backoff } = options
  while (!stop.aborted) {
    // Per attempt: whoever owns the attempt's resources (a closed channel) can end it early.
    const cycle = new AbortController()
    const onStop = () => cycle.abort(stop.reason)
    stop.addEventListener('abort', onStop, { once: true })
    let error: unknown
    try {
      await options.attempt(cycle)
    } catch (caught) {
      error = caught
    } finally {
      stop.removeEventListener('abort', onStop)
      cycle.abort()
    }
    if (stop.aborted) break
    options.onEnded(error)
    try {
      await backoff.wait(stop)
    } catch {
      break
    }
  }
}

export interface KeepAliveOptions {
  readonly intervalMs: number
  readonly maxMisses: number
  readonly signal: AbortSignal
  /** One ping; rejects when unanswered. */
  readonly ping: (signal: AbortSignal) => Promise<unknown>
  /** Whether a failed ping counts as a miss (default: any); other failures end the keep-alive at once. */
  readonly isMiss?: (error: unknown) => boolean
  readonly onMiss?: () => void
  /** The error thrown after `maxMisses` misses in a row. */
  readonly lost: (misses: number, cause: unknown) => OckamError
}

/** Pings every `intervalMs`; returns only by throwing (aborted, a failure that is not a miss, or too many misses). */
export async function keepAlive(options: KeepAliveOptions): Promise<never> {
  const { signal } = options
  let misses = 0
  for (;;) {
    await sleep(options.intervalMs, signal)
    try {
      await options.ping(signal)
      misses = 0
    } catch (error) {
      if (signal.aborted || (options.isMiss !== undefined && !options.isMiss(error))) throw error
      misses += 1
      options.onMiss?.()
      if (misses >= options.maxMisses) throw options.lost(misses, error)
    }
  }
}
