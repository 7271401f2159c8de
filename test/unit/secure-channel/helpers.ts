/**
 * Shared by the secure-channel tests: the providers every suite runs against, a provider that
 * counts calls, and the vector folder. Every test here runs against both providers.
 */
import { resolve } from 'node:path'
import { createNativeCryptoProvider, createPortableCryptoProvider } from '../../../runtime/trust/crypto/index.js'
import type { CryptoProvider } from '../../../runtime/trust/crypto/provider.js'

export const PROVIDERS: readonly CryptoProvider[] = [createNativeCryptoProvider(), createPortableCryptoProvider()]

/** The repo root is the working directory; CI clones the repo beside a copy of shared/. */
export const VECTORS_DIR = resolve(process.cwd(), '../shared/vectors/noise')

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export type CallCounts = Record<string, number>

/** Wraps a provider so a test can assert how many primitives an operation used. */
export function countingProvider(inner: CryptoProvider): { provider: CryptoProvider; counts: CallCounts } {
  const counts: CallCounts = {}
  const provider = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        counts[String(property)] = (counts[String(property)] ?? 0) + 1
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { provider, counts }
}

export function totalCalls(counts: CallCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0)
}
