/**
 * Runs the benchmarks one after the other, each in its own process so one bench's heap, timers
 * and sockets never skew the next: every `dist/bench/*.bench.js`, or the ones named on the
 * command line (`router`, `tcp-rtt.bench`, `dist/bench/noise.bench.js` all work).
 *
 *   npm run bench                      # all of them
 *   node dist/bench/run.js router      # just one
 *   node dist/bench/run.js --list      # what there is
 *
 * Environment: BENCH_ROUNDS, BENCH_QUICK=1 (see helpers/options.ts). Exits non-zero if any
 * bench failed; prints which.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NODE_HOST_FLAGS } from '../runtime/host-flags.js'
import { baselineStatus, missingBaselinesMessage } from './helpers/baselines.js'
import { printTable } from './helpers/format.js'

const SUFFIX = '.bench.js'
const benchDirectory = dirname(fileURLToPath(import.meta.url))

function available(): string[] {
  return readdirSync(benchDirectory)
    .filter((name) => name.endsWith(SUFFIX))
    .sort()
}

/** `router`, `router.bench`, `router.bench.ts`, `dist/bench/router.bench.js` → `router.bench.js`. */
function benchFileName(argument: string): string {
  const name = basename(argument).replace(/\.(ts|js)$/, '')
  return name.endsWith('.bench') ? `${name}.js` : `${name}${SUFFIX}`
}

function runOne(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_HOST_FLAGS, join(benchDirectory, file)], {
      stdio: 'inherit',
      env: process.env,
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
}

const args = process.argv.slice(2)
if (args.includes('--list')) {
  for (const file of available()) console.log(file.slice(0, -SUFFIX.length))
  process.exit(0)
}
const files = args.length === 0 ? available() : args.map(benchFileName)
const unknown = files.filter((file) => !existsSync(join(benchDirectory, file)))
if (unknown.length > 0) {
  console.error(`no such bench: ${unknown.join(', ')}; available: ${available().join(', ') || 'none (build first)'}`)
  process.exit(2)
}
if (files.length === 0) {
  console.error(`no *${SUFFIX} under ${benchDirectory}: run \`npm run build\` first`)
  process.exit(2)
}

const missing = missingBaselinesMessage(baselineStatus())
if (missing !== undefined) console.log(`${missing}\n`)

const summary: (string | number)[][] = []
for (const file of files) {
  console.log(`\n=== ${file} ===`)
  const started = performance.now()
  const { code, signal } = await runOne(file)
  const seconds = (performance.now() - started) / 1000
  summary.push([file, code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`, seconds])
}
printTable('Benchmarks run', ['bench', 'result', 'seconds'], summary)
const failed = summary.filter((row) => row[1] !== 'ok')
if (failed.length > 0) {
  console.error(`\n${failed.length} bench(es) failed: ${failed.map((row) => row[0]).join(', ')}`)
  process.exit(1)
}
