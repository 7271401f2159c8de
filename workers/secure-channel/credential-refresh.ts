/**
 * Automatic refresh of this side's credentials over an open channel (DESIGN §6, §12: refreshed
 * at half-life). After each presentation the next one is scheduled at the half-life of the
 * soonest-expiring credential presented; at that time the identity material is asked again and
 * its credentials are sent if they changed. A source that never renews costs a handful of
 * checks (each halfway to expiry), not one per second.
 */
import { decodeCredentialPresentation } from '../../runtime/trust/credentials/credential.js'
import { MIN_CREDENTIAL_REFRESH_DELAY_MS } from './constants.js'
import { MAX_TIMER_MS } from './peer-credentials.js'

export interface CredentialRefreshOptions {
  /** Unix seconds. */
  readonly now: () => number
  /** Runs when a refresh is due; it fetches, compares (`isUnchanged`) and sends or reschedules. */
  readonly due: () => void
}

export class CredentialRefresh {
  readonly #options: CredentialRefreshOptions
  #last: readonly Uint8Array[] = []
  #timer: NodeJS.Timeout | undefined
  #disposed = false

  constructor(options: CredentialRefreshOptions) {
    this.#options = options
  }

  /** Records what was presented and schedules the next refresh. */
  presented(own: readonly Uint8Array[]): void {
    this.#last = own
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#disposed) return
    const nowMs = this.#options.now() * 1000
    let target: number | undefined
    for (const presentation of own) {
      let fields: { created: number; expires: number }
      try {
        fields = decodeCredentialPresentation(presentation).fields
      } catch {
        continue
      }
      const expiresMs = fields.expires * 1000
      if (expiresMs <= nowMs) continue
      const halfLife = ((fields.created + fields.expires) / 2) * 1000
      const at = halfLife > nowMs ? halfLife : nowMs + (expiresMs - nowMs) / 2
      target = target === undefined ? at : Math.min(target, at)
    }
    if (target === undefined) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(MIN_CREDENTIAL_REFRESH_DELAY_MS, target - nowMs))
    this.#timer = setTimeout(this.#options.due, delay)
    this.#timer.unref()
  }

  /** True when `own` is byte for byte what was presented last. */
  isUnchanged(own: readonly Uint8Array[]): boolean {
    const last = this.#last
    return own.length === last.length && own.every((c, i) => sameBytes(c, last[i]))
  }

  dispose(): void {
    this.#disposed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.length === b.length && Buffer.compare(a, b) === 0
}
