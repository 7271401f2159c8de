/** Options of createSecureChannel and startSecureChannelListener, checked eagerly with precise messages. */
import { OckamError } from '../../runtime/errors.js'
import { nowSeconds } from '../../runtime/trust/identity/validity.js'
import {
  NOISE_SUITES,
  NOISE_XX_AESGCM,
  type NoiseProtocolName,
  type NoiseSuite,
  noiseSuiteByName,
} from '../../runtime/trust/noise/suite.js'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_CHANNEL_MESSAGE_BYTES } from './constants.js'
import { checkIdentityMaterial, type SecureChannelIdentity } from './identity-material.js'
import { checkTrustPolicy, type TrustPolicy } from './trust-policy.js'

export interface CommonChannelOptions {
  /** Who this side is: identity, vault handles, attestation, credentials, trusted authorities. */
  readonly identity: SecureChannelIdentity
  /** Whom this side accepts as its peer. */
  readonly trust: TrustPolicy
  /** Largest message payload (bytes) this side sends or reassembles; default DEFAULT_MAX_CHANNEL_MESSAGE_BYTES. */
  readonly maxMessageBytes?: number
  /** Clock in Unix seconds for verification and expiry (tests); default the system clock. */
  readonly now?: () => number
  /**
   * Let sealed frames of channels nested inside this one pass through without a second seal,
   * and accept them from the peer on this channel's connection (PROTOCOL.md "Passthrough",
   * THREATS.md). Default true; false seals every nested frame again, hiding its routes, sizes
   * and timing from observers of this hop at the cost of an AEAD per frame at each end.
   */
  readonly passthrough?: boolean
  /**
   * Seal small messages sent in the same turn of the event loop together, one frame for all
   * (PROTOCOL.md "Batching"); used only when both ends offer it. Default true; false seals each
   * message alone (one AEAD and one frame per message).
   */
  readonly batch?: boolean
}

export interface SecureChannelOptions extends CommonChannelOptions {
  /** Default Noise_XX_25519_AESGCM_SHA256. */
  readonly suite?: NoiseSuite | NoiseProtocolName
  /** The whole handshake, until the channel is usable (ms); default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface ResolvedCommon {
  readonly identity: SecureChannelIdentity
  readonly trust: TrustPolicy
  readonly maxMessageBytes: number
  readonly now: () => number
  readonly passthrough: boolean
  readonly batch: boolean
}

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_INVALID_ARGUMENT', message)
}

export function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1)
    throw invalid(`${what} must be a positive integer, got ${resolved}`)
  return resolved
}

export function resolveCommon(options: CommonChannelOptions): ResolvedCommon {
  if (options === null || typeof options !== 'object') throw invalid('secure-channel options are required')
  checkIdentityMaterial(options.identity)
  checkTrustPolicy(options.trust, options.identity.trustedAuthorities)
  if (options.now !== undefined && typeof options.now !== 'function') throw invalid('now must be a function')
  if (options.passthrough !== undefined && typeof options.passthrough !== 'boolean') {
    throw invalid('passthrough must be true or false')
  }
  if (options.batch !== undefined && typeof options.batch !== 'boolean') throw invalid('batch must be true or false')
  return {
    identity: options.identity,
    trust: options.trust,
    maxMessageBytes: positiveInteger(options.maxMessageBytes, DEFAULT_MAX_CHANNEL_MESSAGE_BYTES, 'maxMessageBytes'),
    now: options.now ?? nowSeconds,
    passthrough: options.passthrough ?? true,
    batch: options.batch ?? true,
  }
}

export function resolveSuite(suite: NoiseSuite | NoiseProtocolName | undefined): NoiseSuite {
  if (suite === undefined) return NOISE_XX_AESGCM
  return noiseSuiteByName(typeof suite === 'string' ? suite : suite.protocolName)
}

export function resolveSuites(suites: readonly (NoiseSuite | NoiseProtocolName)[] | undefined): NoiseSuite[] {
  if (suites === undefined) return [...NOISE_SUITES]
  if (!Array.isArray(suites) || suites.length === 0) throw invalid('suites must list at least one Noise suite')
  return suites.map(resolveSuite)
}

export function resolveTimeout(timeoutMs: number | undefined): number {
  return positiveInteger(timeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS, 'the handshake timeout (ms)')
}
