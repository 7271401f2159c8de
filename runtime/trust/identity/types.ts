/**
 * Results of verification. Plain data only (strings, numbers, Uint8Array, arrays, Map), so they
 * cross worker threads by structured clone and come back from a pool task unchanged.
 */

export interface VerifiedChange {
  /** SHA-256 of the change's data bytes. */
  readonly hash: Uint8Array
  /** Raw 32-byte Ed25519 primary public key introduced by this change. */
  readonly publicKey: Uint8Array
  /** Unix seconds. */
  readonly created: number
  /** Unix seconds; absent when the key does not expire. */
  readonly expires?: number
}

export interface VerifiedIdentity {
  /** `I` + 64 lowercase hex digits. */
  readonly identifier: string
  /** The exact history bytes that were verified (what export writes and peers are sent). */
  readonly history: Uint8Array
  /** Every change, first to latest. */
  readonly changes: readonly VerifiedChange[]
  /** Hash of the latest change: attestations and credentials bind it. */
  readonly latestChangeHash: Uint8Array
  /** The current primary public key (the latest change's). */
  readonly publicKey: Uint8Array
}

export type PurposeKeyType = 'secure-channel' | 'credential-signing'

export interface VerifiedPurposeKey {
  readonly subject: string
  readonly subjectChangeHash: Uint8Array
  readonly purpose: PurposeKeyType
  /** X25519 static key for 'secure-channel', Ed25519 public key for 'credential-signing'. */
  readonly publicKey: Uint8Array
  readonly created: number
  readonly expires: number
}

/** Who a credential must be about: an identifier at its latest change. */
export interface SubjectRef {
  readonly identifier: string
  readonly latestChangeHash: Uint8Array
}
