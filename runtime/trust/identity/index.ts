/** Identities: change histories of Ed25519 primary keys, their verification, storage rules and purpose keys. */
export {
  CHANGE_VERSION,
  type ChangeData,
  decodeChangeData,
  decodeHistory,
  encodeChangeData,
  encodeHistory,
  type SignedChange,
} from './change.js'
export { type ChangeTimes, createIdentity, rotateIdentity } from './create.js'
export { SIGNING_DOMAINS, signingInput } from './domains.js'
export { type VerifyAtOptions, verifyIdentityHistory } from './history.js'
export { identifierBytes, identifierFromHash, isIdentifier } from './identifier.js'
export { createMemorySigner, type MemorySigner } from './memory-signer.js'
export {
  type AttestRequest,
  createPurposeKeyAttestation,
  decodePurposeKeyAttestation,
  decodePurposeKeyData,
  encodePurposeKeyData,
  PURPOSE_KEY_VERSION,
  type PurposeKeyAttestation,
  type VerifyPurposeKeyOptions,
  verifyPurposeKeyAttestation,
} from './purpose-key.js'
export type { Signer } from './signer.js'
export {
  compareHistories,
  createMemoryIdentityStore,
  type HistoryRelation,
  type IdentityStore,
  type MemoryIdentityStoreOptions,
  mergeVerifiedHistory,
} from './store.js'
export { exportIdentity, IDENTITY_TEXT_PREFIX, importIdentity } from './text.js'
export type { PurposeKeyType, SubjectRef, VerifiedChange, VerifiedIdentity, VerifiedPurposeKey } from './types.js'
export { nowSeconds, type Validity, validityAt } from './validity.js'
