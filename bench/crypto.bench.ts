/**
 * Native vs portable crypto provider, one thread. The machine drifts 30–40% minute to minute
 * (DESIGN §9), so each operation runs as interleaved native/portable pairs and the table gives
 * the median of the per-pair ratios (wall time) with its min–max, beside median rates and the
 * process CPU time per operation, which other load on the machine disturbs less.
 *
 *   node dist/bench/crypto.bench.js [--rounds N] [--time MS]
 */
import { parseArgs } from 'node:util'
import { Bench } from 'tinybench'
import type { CryptoProvider } from '../runtime/trust/crypto/index.js'
import { createNativeCryptoProvider, createPortableCryptoProvider } from '../runtime/trust/crypto/index.js'

const BULK_BYTES = 64 * 1024

interface Operation {
  readonly name: string
  /** Bytes processed per call, for MB/s; 0 for per-call operations. */
  readonly bytes: number
  /** Prepares inputs outside the timed call and returns the call. */
  prepare(provider: CryptoProvider): () => unknown
}

const OPERATIONS: readonly Operation[] = [
  {
    name: 'Ed25519 sign (100 B)',
    bytes: 0,
    prepare(p) {
      const { secretKey } = p.ed25519GenerateKeyPair()
      const message = p.randomBytes(100)
      return () => p.ed25519Sign(secretKey, message)
    },
  },
  {
    name: 'Ed25519 verify (100 B)',
    bytes: 0,
    prepare(p) {
      const { secretKey, publicKey } = p.ed25519GenerateKeyPair()
      const message = p.randomBytes(100)
      const signature = p.ed25519Sign(secretKey, message)
      return () => {
        if (!p.ed25519Verify(publicKey, message, signature)) throw new Error('verify failed')
      }
    },
  },
  {
    name: 'X25519 DH, static secret',
    bytes: 0,
    prepare(p) {
      const { secretKey } = p.x25519GenerateKeyPair()
      const peer = p.x25519GenerateKeyPair().publicKey
      return () => p.x25519(secretKey, peer)
    },
  },
  {
    name: 'X25519 DH, fresh secret array',
    bytes: 0,
    prepare(p) {
      const { secretKey } = p.x25519GenerateKeyPair()
      const peer = p.x25519GenerateKeyPair().publicKey
      return () => p.x25519(secretKey.slice(), peer)
    },
  },
  {
    name: 'AES-256-GCM seal 64 KiB',
    bytes: BULK_BYTES,
    prepare(p) {
      const [key, nonce, ad, plaintext] = [
        p.randomBytes(32),
        p.randomBytes(12),
        p.randomBytes(16),
        p.randomBytes(BULK_BYTES),
      ]
      return () => p.aeadSeal('aes-256-gcm', key, nonce, ad, plaintext)
    },
  },
  {
    name: 'ChaCha20-Poly1305 seal 64 KiB',
    bytes: BULK_BYTES,
    prepare(p) {
      const [key, nonce, ad, plaintext] = [
        p.randomBytes(32),
        p.randomBytes(12),
        p.randomBytes(16),
        p.randomBytes(BULK_BYTES),
      ]
      return () => p.aeadSeal('chacha20-poly1305', key, nonce, ad, plaintext)
    },
  },
  {
    name: 'SHA-256 64 KiB',
    bytes: BULK_BYTES,
    prepare(p) {
      const data = p.randomBytes(BULK_BYTES)
      return () => p.sha256(data)
    },
  },
]

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

interface Rate {
  /** Operations per second of wall time: 1000 / median latency (ms). */
  readonly opsPerSecond: number
  /** Process CPU time (user + system) per operation, µs: steadier than wall time on a busy machine. */
  readonly cpuMicros: number
}

/** One bounded tinybench run (at least 8 calls, about timeMs long) after 4 warm-up calls. */
function measure(name: string, fn: () => unknown, timeMs: number): Rate {
  for (let i = 0; i < 4; i++) fn()
  const bench = new Bench({ time: timeMs, iterations: 8, warmup: false, throws: true })
  bench.add(name, fn)
  const cpuBefore = process.cpuUsage()
  const [task] = bench.runSync()
  const cpu = process.cpuUsage(cpuBefore)
  const result = task?.result
  if (task === undefined || result === undefined || !('latency' in result)) throw new Error(`${name}: no result`)
  return { opsPerSecond: 1000 / result.latency.p50, cpuMicros: (cpu.user + cpu.system) / task.runs }
}

function format(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toPrecision(3)
}

function main(): void {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '5' }, time: { type: 'string', default: '200' } },
  })
  const rounds = Math.max(1, Math.min(50, Number(values.rounds)))
  const timeMs = Math.max(20, Math.min(5000, Number(values.time)))
  const providers = { native: createNativeCryptoProvider(), portable: createPortableCryptoProvider() }
  console.error(`crypto providers, ${rounds} interleaved native/portable pairs of ${timeMs} ms per operation`)

  const rows: Record<string, string>[] = []
  for (const op of OPERATIONS) {
    const calls = { native: op.prepare(providers.native), portable: op.prepare(providers.portable) }
    const rates: Record<'native' | 'portable', Rate[]> = { native: [], portable: [] }
    const ratios: number[] = []
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first so a drift within the pair does not favour one side.
      const order = round % 2 === 0 ? (['native', 'portable'] as const) : (['portable', 'native'] as const)
      const pair: Partial<Record<'native' | 'portable', Rate>> = {}
      for (const name of order) pair[name] = measure(`${op.name} ${name}`, calls[name], timeMs)
      rates.native.push(pair.native as Rate)
      rates.portable.push(pair.portable as Rate)
      ratios.push((pair.native as Rate).opsPerSecond / (pair.portable as Rate).opsPerSecond)
    }
    const ops = (name: 'native' | 'portable') => median(rates[name].map((r) => r.opsPerSecond))
    const cpu = (name: 'native' | 'portable') => median(rates[name].map((r) => r.cpuMicros))
    const mbps = (n: number) => (op.bytes === 0 ? '' : format((n * op.bytes) / 1e6))
    rows.push({
      operation: op.name,
      'native ops/s': format(ops('native')),
      'portable ops/s': format(ops('portable')),
      'native MB/s': mbps(ops('native')),
      'portable MB/s': mbps(ops('portable')),
      'native/portable': `${median(ratios).toFixed(1)}× (${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)})`,
      'CPU µs/op native': format(cpu('native')),
      'CPU µs/op portable': format(cpu('portable')),
    })
  }
  console.table(rows)
}

main()
