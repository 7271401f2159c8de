/** The pure Noise library: no router, no sockets, no threads; every primitive comes from a CryptoProvider. */
export { CipherState, noiseDecrypt, noiseEncrypt, noiseRekey } from './cipher-state.js'
export {
  NOISE_DH_BYTES,
  NOISE_HASH_BYTES,
  NOISE_MAX_MESSAGE_BYTES,
  NOISE_MAX_NONCE,
  NOISE_TAG_BYTES,
} from './constants.js'
export {
  createXXHandshake,
  type HandshakeAction,
  type HandshakeResult,
  type NoiseHandshake,
  type NoiseRole,
  XX_MESSAGE_OVERHEAD_BYTES,
  type XXHandshakeOptions,
} from './handshake-xx.js'
export { PROLOGUE_LABEL, PROLOGUE_MAX_WIRE_VERSION, secureChannelPrologue } from './prologue.js'
export {
  encodeNoiseNonce,
  NOISE_SUITES,
  NOISE_XX_AESGCM,
  NOISE_XX_CHACHAPOLY,
  type NoiseCipherName,
  type NoiseProtocolName,
  type NoiseSuite,
  noiseSuiteByName,
  rekeyNonce,
} from './suite.js'
export { noiseHkdf, type SplitKeys, SymmetricState } from './symmetric-state.js'
