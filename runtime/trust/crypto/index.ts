/**
 * The crypto providers behind one interface (provider.ts). `native` (node:crypto) serves every
 * hot path; `portable` (@noble/*) is the independent implementation that cross-checks it.
 */
import { OckamError } from '../../errors.js'
import { createNativeCryptoProvider } from './native.js'
import { createPortableCryptoProvider } from './portable.js'
import type { CryptoProvider } from './provider.js'

export type CryptoProviderName = CryptoProvider['name']

export const CRYPTO_PROVIDER_NAMES: readonly CryptoProviderName[] = ['native', 'portable']

export function createCryptoProvider(name: CryptoProviderName = 'native'): CryptoProvider {
  if (name === 'native') return createNativeCryptoProvider()
  if (name === 'portable') return createPortableCryptoProvider()
  throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `unknown crypto provider ${JSON.stringify(name)}`, {
    hint: "use 'native' or 'portable'",
  })
}

export { DEFAULT_VERIFY_KEY_CACHE_ENTRIES, HKDF_SHA256_MAX_OUTPUT_BYTES, RANDOM_BYTES_MAX } from './constants.js'
export { isAcceptablePointEncoding, isCanonicalScalar, passesStrictEncodingChecks } from './ed25519-strict.js'
export { createNativeCryptoProvider, type NativeCryptoProviderOptions } from './native.js'
export { createPortableCryptoProvider } from './portable.js'
export * from './provider.js'
