/**
 * What this end knows of its peer's credentials: the verified ones, the attributes they attest
 * while valid (expiry plus clock skew, DESIGN §12), and the `channel` ingress that every
 * message coming out of the channel carries. Attributes drop at expiry without a new handshake:
 * checked on each use, and by a timer that lets the channel re-apply its trust policy.
 */
import type { Ingress } from '../../runtime/message.js'
import { DEFAULT_CLOCK_SKEW_SECONDS } from '../../runtime/trust/constants.js'
import type { VerifiedCredential } from '../../runtime/trust/credentials/types.js'
import { attributesOf } from './trust-policy.js'

/** setTimeout's largest delay; longer ones would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export interface PeerCredentialsOptions {
  /** The channel's name in ingress metadata (its encryptor address). */
  readonly channel: string
  readonly identifier: string
  /** Unix seconds. */
  readonly now: () => number
  /** Called when a credential has just expired (after its attributes dropped). */
  readonly onExpired: () => void
}

export class PeerCredentials {
  readonly #options: PeerCredentialsOptions
  #credentials: readonly VerifiedCredential[] = []
  #attributes: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>)
  #valid = 0
  #until: number | undefined
  #ingress: Ingress
  #timer: NodeJS.Timeout | undefined
  #disposed = false

  constructor(options: PeerCredentialsOptions) {
    this.#options = options
    this.#ingress = this.#makeIngress()
  }

  /** Replaces the peer's credentials (handshake, confirmation, accepted refresh). */
  set(credentials: readonly VerifiedCredential[]): void {
    this.#credentials = credentials
    this.#recompute()
  }

  get attributes(): Readonly<Record<string, string>> {
    this.#refreshIfExpired()
    return this.#attributes
  }

  /** Valid credentials from a trusted authority: the peer's membership. */
  get validCount(): number {
    this.#refreshIfExpired()
    return this.#valid
  }

  /** The ingress of messages out of the channel, with the attributes valid now. */
  get ingress(): Ingress {
    this.#refreshIfExpired()
    return this.#ingress
  }

  dispose(): void {
    this.#disposed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #refreshIfExpired(): void {
    if (this.#until === undefined || this.#options.now() < this.#until) return
    // A read got here before the timer (whole-second clock, or a busy loop): the drop still has
    // to be reported, or whoever re-checks on expiry never hears of it. Not from inside a getter.
    this.#recompute()
    queueMicrotask(() => {
      if (!this.#disposed) this.#options.onExpired()
    })
  }

  #makeIngress(): Ingress {
    return Object.freeze({
      kind: 'channel',
      channel: this.#options.channel,
      identifier: this.#options.identifier,
      attributes: this.#attributes,
      member: this.#valid > 0,
    })
  }

  #recompute(): void {
    const now = this.#options.now()
    const { attributes, valid, nextExpiry } = attributesOf(this.#credentials, now, DEFAULT_CLOCK_SKEW_SECONDS)
    this.#credentials = this.#credentials.filter((c) => now < c.expires + DEFAULT_CLOCK_SKEW_SECONDS)
    this.#attributes = attributes
    this.#valid = valid
    this.#until = nextExpiry
    this.#ingress = this.#makeIngress()
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (nextExpiry === undefined || this.#disposed) return
    this.#timer = setTimeout(
      () => {
        this.#recompute()
        this.#options.onExpired()
      },
      Math.min(MAX_TIMER_MS, Math.max(0, (nextExpiry - now) * 1000)),
    )
    this.#timer.unref()
  }
}
