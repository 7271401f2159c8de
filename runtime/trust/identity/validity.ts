/** Validity windows with the clock skew tolerance of DESIGN §6. Times are Unix seconds. */
import { OckamError } from '../../errors.js'
import { DEFAULT_CLOCK_SKEW_SECONDS } from '../constants.js'

export type Validity = 'valid' | 'expired' | 'not-yet-valid'

/**
 * Valid from `created - skew` until, excluding, `expires + skew`: a verifier whose clock is up
 * to DEFAULT_CLOCK_SKEW_SECONDS off from the signer's still agrees.
 */
export function validityAt(created: number, expires: number | undefined, now: number): Validity {
  if (created > now + DEFAULT_CLOCK_SKEW_SECONDS) return 'not-yet-valid'
  if (expires !== undefined && now >= expires + DEFAULT_CLOCK_SKEW_SECONDS) return 'expired'
  return 'valid'
}

export function checkNow(now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'now must be a finite, non-negative number of Unix seconds')
  }
  return now
}

/** The current time in whole Unix seconds, for callers (verification itself takes `now`, to stay pure). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/**
 * Latest time we sign (2^32 - 1 s, year 2106). Verification accepts any integer; signing refuses
 * more so that milliseconds passed by mistake (Date.now()) fail loudly instead of minting data
 * that is "not yet valid" for fifty thousand years.
 */
const MAX_SIGNED_SECONDS = 2 ** 32 - 1

/** Checks a validity window a caller asks to sign: whole seconds, expiry after creation. */
export function checkWindowToSign(created: number, expires: number | undefined): void {
  if (!Number.isSafeInteger(created) || created < 0 || created > MAX_SIGNED_SECONDS) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'created must be whole Unix seconds (not milliseconds)')
  }
  if (expires !== undefined && (!Number.isSafeInteger(expires) || expires <= created || expires > MAX_SIGNED_SECONDS)) {
    throw new OckamError(
      'OCKAM_ERR_INVALID_ARGUMENT',
      'expires must be whole Unix seconds (not milliseconds) after created',
    )
  }
}
