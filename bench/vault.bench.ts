/**
 * Vault operations inline vs on the vault's thread: Ed25519 signs/s and X25519 DH/s, one call in
 * flight and 32 in flight, plus what each op costs the main thread (event-loop active time) and
 * the provider alone for reference. Rounds interleave every task (A B C … × ROUNDS) because this
 * machine drifts 30–40% minute to minute; medians over rounds, ratios per round.
 *
 *   node dist/bench/vault.bench.js
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Bench } from 'tinybench'
import { createNativeCryptoProvider } from '../runtime/trust/crypto/native.js'
import { DEFAULT_SCRYPT_LOG2_N, DEFAULT_SCRYPT_P, DEFAULT_SCRYPT_R } from '../runtime/trust/vault/constants.js'
import { createVault } from '../runtime/trust/vault/create-vault.js'
import { deriveVaultKeys } from '../runtime/trust/vault/sealing.js'
import type { Vault } from '../runtime/trust/vault/types.js'

const ROUNDS = 5
const TASK_TIME_MS = 300
const WARMUP_TIME_MS = 100
const MAX_ITERATIONS = 200_000
const IN_FLIGHT = 32
const STARTUP_SAMPLES = 5

const provider = createNativeCryptoProvider()
const message = new Uint8Array(64).fill(7)
const peer = provider.x25519GenerateKeyPair()

interface TaskSpec {
  readonly name: string
  readonly opsPerCall: number
  readonly run: () => Promise<unknown> | unknown
}

interface Sample {
  readonly opsPerSecond: number
  readonly mainThreadMicrosPerOp: number
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function measure(task: TaskSpec): Promise<Sample> {
  const bench = new Bench({ time: TASK_TIME_MS, warmupTime: WARMUP_TIME_MS, iterations: 16, throws: true })
  bench.add(task.name, task.run)
  const eluBefore = performance.eventLoopUtilization()
  await bench.run()
  const elu = performance.eventLoopUtilization(eluBefore)
  const result = bench.tasks[0]?.result
  if (result === undefined || result.state !== 'completed') throw new Error(`${task.name} did not complete`)
  const calls = result.totalTime / result.period
  if (calls > MAX_ITERATIONS) throw new Error(`${task.name}: ${calls} iterations exceeds the bound`)
  const ops = calls * task.opsPerCall
  // Warm-up time is in the ELU window too; scale the active time to the measured part.
  const measuredShare = result.totalTime / (result.totalTime + WARMUP_TIME_MS)
  return {
    opsPerSecond: (1000 / result.period) * task.opsPerCall,
    mainThreadMicrosPerOp: (elu.active * measuredShare * 1000) / ops,
  }
}

async function openVault(mode: 'inline' | 'thread', dir: string): Promise<Vault> {
  return createVault({ mode, stateDir: join(dir, mode), env: {} })
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-vault-bench-'))
  try {
    const inline = await openVault('inline', dir)
    const thread = await openVault('thread', dir)
    const keys = {
      inline: { ed: await inline.generateKey('ed25519'), x: await inline.generateKey('x25519') },
      thread: { ed: await thread.generateKey('ed25519'), x: await thread.generateKey('x25519') },
    }
    const secret = provider.ed25519GenerateKeyPair().secretKey
    const xSecret = provider.x25519GenerateKeyPair().secretKey
    const batch = (fn: () => Promise<unknown>) => () => Promise.all(Array.from({ length: IN_FLIGHT }, fn))

    const tasks: TaskSpec[] = [
      { name: 'sign: provider alone', opsPerCall: 1, run: () => provider.ed25519Sign(secret, message) },
      { name: 'sign: vault inline', opsPerCall: 1, run: () => inline.sign(keys.inline.ed.handle, message) },
      {
        name: 'sign: vault thread, 1 in flight',
        opsPerCall: 1,
        run: () => thread.sign(keys.thread.ed.handle, message),
      },
      {
        name: `sign: vault thread, ${IN_FLIGHT} in flight`,
        opsPerCall: IN_FLIGHT,
        run: batch(() => thread.sign(keys.thread.ed.handle, message)),
      },
      { name: 'dh: provider alone', opsPerCall: 1, run: () => provider.x25519(xSecret, peer.publicKey) },
      { name: 'dh: vault inline', opsPerCall: 1, run: () => inline.dh(keys.inline.x.handle, peer.publicKey) },
      {
        name: 'dh: vault thread, 1 in flight',
        opsPerCall: 1,
        run: () => thread.dh(keys.thread.x.handle, peer.publicKey),
      },
      {
        name: `dh: vault thread, ${IN_FLIGHT} in flight`,
        opsPerCall: IN_FLIGHT,
        run: batch(() => thread.dh(keys.thread.x.handle, peer.publicKey)),
      },
    ]

    const samples = new Map<string, Sample[]>(tasks.map((t) => [t.name, []]))
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const task of tasks) samples.get(task.name)!.push(await measure(task))
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`)
    }
    const threadCalls = thread.threadCalls
    await inline.close()
    await thread.close()

    const inlineOf = (name: string) => name.replace(/vault thread.*$/, 'vault inline')
    const rows = tasks.map((task) => {
      const own = samples.get(task.name)!
      const row: Record<string, string> = {
        task: task.name,
        'ops/s (median)': Math.round(median(own.map((s) => s.opsPerSecond))).toLocaleString('en-US'),
        'main-thread µs/op': median(own.map((s) => s.mainThreadMicrosPerOp)).toFixed(1),
      }
      if (task.name.includes('vault thread')) {
        const base = samples.get(inlineOf(task.name))!
        const ratios = own.map((s, i) => s.opsPerSecond / base[i]!.opsPerSecond)
        row['vs inline (median, min–max)'] =
          `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
      }
      return row
    })
    console.table(rows)
    console.log(`calls that crossed into the vault thread: ${threadCalls.toLocaleString('en-US')}`)

    const derive: number[] = []
    const start: number[] = []
    for (let i = 0; i < STARTUP_SAMPLES; i += 1) {
      let t0 = performance.now()
      await deriveVaultKeys(provider, 'bench passphrase', {
        log2N: DEFAULT_SCRYPT_LOG2_N,
        r: DEFAULT_SCRYPT_R,
        p: DEFAULT_SCRYPT_P,
        salt: provider.randomBytes(32),
      })
      derive.push(performance.now() - t0)
      t0 = performance.now()
      const v = await createVault({ mode: 'thread', stateDir: join(dir, 'start'), env: {} })
      start.push(performance.now() - t0)
      await v.close()
    }
    console.table([
      {
        what: `scrypt N=2^${DEFAULT_SCRYPT_LOG2_N} r=${DEFAULT_SCRYPT_R} p=${DEFAULT_SCRYPT_P} (unlock)`,
        'median ms': median(derive).toFixed(1),
      },
      { what: 'vault thread start (no passphrase)', 'median ms': median(start).toFixed(1) },
    ])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
