/**
 * Noise micro-benchmarks on the native provider, single thread, in-process:
 * - full XX handshakes per second (both sides: three messages and two splits, fresh ephemerals);
 * - transport frame cipher, seal + open of one frame, for 1 KiB, 16 KiB and the largest frame
 *   a 65,535-byte Noise message allows (65,519 B of plaintext), AES-GCM vs ChaChaPoly.
 * The machine drifts minute to minute (DESIGN §9), so the two suites run interleaved, A B A B,
 * for ROUNDS pairs after a warm-up; the table gives medians and the median pairwise ratio with
 * its min–max. Every run is bounded in time and iterations.
 *
 *   npx tsc -p . && node dist/bench/noise.bench.js
 */
import { Bench } from 'tinybench'
import { createNativeCryptoProvider } from '../runtime/trust/crypto/native.js'
import type { CryptoProvider } from '../runtime/trust/crypto/provider.js'
import { createXXHandshake } from '../runtime/trust/noise/handshake-xx.js'
import { secureChannelPrologue } from '../runtime/trust/noise/prologue.js'
import { NOISE_XX_AESGCM, NOISE_XX_CHACHAPOLY, type NoiseSuite } from '../runtime/trust/noise/suite.js'
import { createTransportReceiver, createTransportSender } from '../workers/secure-channel/transport-cipher.js'

const ROUNDS = 5
/** Each run stops after this many milliseconds (and at least 16 iterations), warm-up 50 ms more. */
const RUN_MS = 200

function opsPerSecond(name: string, fn: () => void): number {
  const bench = new Bench({ time: RUN_MS, iterations: 16, warmupTime: 50, warmupIterations: 8, throws: true })
  bench.add(name, () => {
    fn()
  })
  const [task] = bench.runSync()
  const result = task?.result
  if (result?.state !== 'completed') throw new Error(`benchmark ${name} did not complete`)
  return 1000 / result.latency.p50
}

function handshakeTask(provider: CryptoProvider, suite: NoiseSuite): () => void {
  const initiatorStatic = provider.x25519GenerateKeyPair()
  const responderStatic = provider.x25519GenerateKeyPair()
  const prologue = secureChannelPrologue(1, suite)
  const payload = new Uint8Array(64)
  return () => {
    const initiator = createXXHandshake({
      provider,
      suite,
      role: 'initiator',
      staticKeyPair: initiatorStatic,
      prologue,
    })
    const responder = createXXHandshake({
      provider,
      suite,
      role: 'responder',
      staticKeyPair: responderStatic,
      prologue,
    })
    responder.readMessage(initiator.writeMessage(payload))
    initiator.readMessage(responder.writeMessage(payload))
    responder.readMessage(initiator.writeMessage(payload))
    initiator.split()
    responder.split()
  }
}

function frameTask(provider: CryptoProvider, suite: NoiseSuite, size: number): () => void {
  const key = provider.randomBytes(32)
  const sender = createTransportSender({ provider, suite, key })
  const receiver = createTransportReceiver({ provider, suite, key })
  const plaintext = provider.randomBytes(size)
  return () => {
    receiver.open(sender.seal(plaintext))
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

interface Row {
  measure: string
  aesgcm: number
  chachapoly: number
  ratios: number[]
  unit: string
}

function interleaved(measure: string, unit: string, scale: number, make: (suite: NoiseSuite) => () => void): Row {
  const aes = make(NOISE_XX_AESGCM)
  const chacha = make(NOISE_XX_CHACHAPOLY)
  opsPerSecond('warm-up aes', aes)
  opsPerSecond('warm-up chacha', chacha)
  const a: number[] = []
  const c: number[] = []
  for (let round = 0; round < ROUNDS; round += 1) {
    a.push(opsPerSecond(`${measure} aes`, aes) * scale)
    c.push(opsPerSecond(`${measure} chacha`, chacha) * scale)
  }
  return { measure, aesgcm: median(a), chachapoly: median(c), ratios: a.map((x, i) => x / c[i]!), unit }
}

const provider = createNativeCryptoProvider()
const rows: Row[] = [interleaved('XX handshake, both sides', 'handshakes/s', 1, (s) => handshakeTask(provider, s))]
for (const [label, size] of [
  ['seal+open 1 KiB', 1024],
  ['seal+open 16 KiB', 16 * 1024],
  ['seal+open 65,519 B (max)', 65_519],
] as const) {
  rows.push(interleaved(label, 'MB/s', size / 1e6, (s) => frameTask(provider, s, size)))
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))
console.log(
  `Noise benchmarks: ${provider.name} provider, Node ${process.version}, ${ROUNDS} interleaved pairs, medians`,
)
console.table(
  rows.map((r) => ({
    measure: r.measure,
    unit: r.unit,
    AESGCM: fmt(r.aesgcm),
    ChaChaPoly: fmt(r.chachapoly),
    'AES/ChaCha (min–max)': `${median(r.ratios).toFixed(2)} (${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)})`,
  })),
)
