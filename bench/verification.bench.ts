/**
 * Signatures, verifications and credential verifications per second: native vs portable
 * provider inline, and inline vs the node's CPU pool (TaskPool on workers/tasks/crypto-tasks.ts,
 * which uses the native provider) with 1 and 2 threads, fed batches of BATCH items with
 * 2 batches in flight per thread. The machine drifts 30–40% minute to minute (DESIGN §9), so
 * every round runs every variant of an operation, in a rotated order, and each variant's ratio
 * to native inline is taken within its round; the table gives medians over rounds with the
 * ratio's min–max, the main thread's busy time per operation (event-loop active time: what the
 * pool saves the event loop), and the whole process's CPU time per operation (pool threads too).
 *
 *   node dist/bench/verification.bench.js [--rounds N] [--time MS] [--batch N]
 */
import assert from 'node:assert/strict'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Bench } from 'tinybench'
import { Counters } from '../runtime/diagnostics.js'
import { TaskPool } from '../runtime/pool/task-pool.js'
import { issueCredential, verifyCredential } from '../runtime/trust/credentials/index.js'
import {
  type CryptoProvider,
  createNativeCryptoProvider,
  createPortableCryptoProvider,
} from '../runtime/trust/crypto/index.js'
import { createIdentity, createMemorySigner, createPurposeKeyAttestation } from '../runtime/trust/identity/index.js'
import type { VerifyItem, VerifyOutcome } from '../runtime/trust/verify-batch.js'
import { CRYPTO_TASK_MODULE, type Ed25519VerifyItem } from '../workers/tasks/crypto-tasks.js'

const WARMUP_TIME_MS = 100
/** Upper bound on timed calls per measurement, so a broken task cannot spin for long. */
const MAX_CALLS = 500_000
const IN_FLIGHT_PER_THREAD = 2

interface Variant {
  readonly name: string
  /** Operations one call performs. */
  readonly opsPerCall: number
  readonly run: () => unknown
}

interface Operation {
  readonly name: string
  readonly variants: readonly Variant[]
}

interface Sample {
  readonly opsPerSecond: number
  readonly mainMicrosPerOp: number
  readonly processMicrosPerOp: number
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

function format(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3)
}

async function measure(variant: Variant, timeMs: number): Promise<Sample> {
  const bench = new Bench({ time: timeMs, warmupTime: WARMUP_TIME_MS, iterations: 4, throws: true })
  bench.add(variant.name, variant.run)
  const elu = performance.eventLoopUtilization()
  const cpu = process.cpuUsage()
  await bench.run()
  const cpuUsed = process.cpuUsage(cpu)
  const eluUsed = performance.eventLoopUtilization(elu)
  const result = bench.tasks[0]?.result
  if (result === undefined || result.state !== 'completed') throw new Error(`${variant.name} did not complete`)
  const calls = result.totalTime / result.period
  if (calls > MAX_CALLS) throw new Error(`${variant.name}: ${Math.round(calls)} calls exceeds the bound`)
  // The windows include the warm-up: scale what they measured to the timed part.
  const share = result.totalTime / (result.totalTime + WARMUP_TIME_MS)
  const ops = calls * variant.opsPerCall
  return {
    opsPerSecond: (1000 / result.period) * variant.opsPerCall,
    mainMicrosPerOp: (eluUsed.active * share * 1000) / ops,
    processMicrosPerOp: ((cpuUsed.user + cpuUsed.system) * share) / ops,
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      time: { type: 'string', default: '300' },
      batch: { type: 'string', default: '32' },
    },
  })
  const rounds = Math.max(1, Math.min(50, Number(values.rounds)))
  const timeMs = Math.max(50, Math.min(5000, Number(values.time)))
  const batchSize = Math.max(1, Math.min(256, Number(values.batch)))
  const providers: Record<'native' | 'portable', CryptoProvider> = {
    native: createNativeCryptoProvider(),
    portable: createPortableCryptoProvider(),
  }
  const native = providers.native

  // What is verified: a 200-byte message, and a credential with 4 attributes from an authority.
  const keyPair = native.ed25519GenerateKeyPair()
  const message = native.randomBytes(200)
  const signature = native.ed25519Sign(keyPair.secretKey, message)
  const signer = createMemorySigner(native)
  const now = Math.floor(Date.now() / 1000)
  const authorityKey = signer.generateKey()
  const authority = await createIdentity(signer, authorityKey, { created: now }, native)
  const credentialKey = signer.generateKey()
  const attestation = await createPurposeKeyAttestation(signer, authorityKey, authority, {
    purpose: 'credential-signing',
    publicKey: await signer.publicKey(credentialKey),
    created: now,
    expires: now + 86_400,
  })
  const member = await createIdentity(signer, signer.generateKey(), { created: now }, native)
  const subject = { identifier: member.identifier, latestChangeHash: member.latestChangeHash }
  const presentation = await issueCredential(signer, credentialKey, attestation, {
    subject,
    attributes: { role: 'analyst', env: 'prod', team: 'data', relay: 'postgres' },
    created: now,
    expires: now + 3600,
  })
  const credentialOptions = { authorities: [authority], subject, now }
  for (const provider of Object.values(providers))
    assert.ok(verifyCredential(presentation, credentialOptions, provider))

  const signatureBatch: Ed25519VerifyItem[] = Array.from({ length: batchSize }, () => ({
    publicKey: keyPair.publicKey,
    message,
    signature,
  }))
  const credentialBatch: VerifyItem[] = Array.from({ length: batchSize }, () => ({
    kind: 'credential',
    presentation,
    authorities: [authority],
    subject,
    now,
  }))

  const counters = new Counters('bench')
  const pools = new Map<number, TaskPool>()
  for (const threads of [1, 2]) {
    const pool = new TaskPool(CRYPTO_TASK_MODULE, { threads, maxQueue: 64, idleTimeoutMs: 60_000 }, counters)
    await pool.start()
    pools.set(threads, pool)
  }

  const poolVariant = (threads: number, task: () => unknown, check: (result: unknown) => void): Variant => {
    const pool = pools.get(threads) as TaskPool
    const inFlight = threads * IN_FLIGHT_PER_THREAD
    return {
      name: `pool, ${threads} thread${threads === 1 ? '' : 's'} (native, batches of ${batchSize}, ${inFlight} in flight)`,
      opsPerCall: inFlight * batchSize,
      run: async () => {
        const results = await Promise.all(Array.from({ length: inFlight }, () => pool.run(task())))
        check(results[0])
      },
    }
  }
  const allValid = (result: unknown) => assert.ok((result as boolean[]).every((ok) => ok === true))
  const allCredentials = (result: unknown) =>
    assert.ok((result as VerifyOutcome[]).every((outcome) => outcome.ok && outcome.kind === 'credential'))

  const operations: Operation[] = [
    {
      name: 'Ed25519 sign (200 B)',
      variants: (['native', 'portable'] as const).map((name) => ({
        name: `${name}, inline`,
        opsPerCall: 1,
        run: () => providers[name].ed25519Sign(keyPair.secretKey, message),
      })),
    },
    {
      name: 'Ed25519 verify (200 B)',
      variants: [
        ...(['native', 'portable'] as const).map((name) => ({
          name: `${name}, inline`,
          opsPerCall: 1,
          run: () => assert.ok(providers[name].ed25519Verify(keyPair.publicKey, message, signature)),
        })),
        ...[1, 2].map((threads) =>
          poolVariant(threads, () => ({ kind: 'ed25519-verify-batch', items: signatureBatch }), allValid),
        ),
      ],
    },
    {
      name: `credential verify (${presentation.length} B, 4 attributes)`,
      variants: [
        ...(['native', 'portable'] as const).map((name) => ({
          name: `${name}, inline`,
          opsPerCall: 1,
          run: () => verifyCredential(presentation, credentialOptions, providers[name]),
        })),
        ...[1, 2].map((threads) =>
          poolVariant(threads, () => ({ kind: 'trust-verify-batch', items: credentialBatch }), allCredentials),
        ),
      ],
    },
  ]

  const load = () =>
    loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')
  console.error(
    `verification: ${rounds} rounds of ${timeMs} ms per variant, rotated order; Node ${process.version}; pool batches of ${batchSize}; load average ${load()}`,
  )
  const rows: Record<string, string>[] = []
  try {
    for (const operation of operations) {
      const samples = operation.variants.map((): Sample[] => [])
      for (let round = 0; round < rounds; round++) {
        const count = operation.variants.length
        for (let k = 0; k < count; k++) {
          const index = (k + round) % count
          ;(samples[index] as Sample[]).push(await measure(operation.variants[index] as Variant, timeMs))
        }
      }
      const baseline = samples[0] as Sample[]
      operation.variants.forEach((variant, index) => {
        const own = samples[index] as Sample[]
        const ratios = own.map((sample, round) => sample.opsPerSecond / (baseline[round] as Sample).opsPerSecond)
        rows.push({
          operation: operation.name,
          variant: variant.name,
          'ops/s': format(median(own.map((s) => s.opsPerSecond))),
          'vs native inline': `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
          'main-thread µs/op': format(median(own.map((s) => s.mainMicrosPerOp))),
          'process CPU µs/op': format(median(own.map((s) => s.processMicrosPerOp))),
        })
      })
      console.error(`${operation.name}: done`)
    }
  } finally {
    for (const pool of pools.values()) await pool.stop()
  }
  console.table(rows)
  // Other load on a 2-core machine caps what 2 pool threads can add: say how busy it was.
  console.log(`load average at the end: ${load()}`)
  // The counter shows the pool variants really ran on threads, not inline.
  console.log(`pool tasks run on threads: ${counters.get('pool.tasks.threaded').toLocaleString('en-US')}`)
}

await main()
