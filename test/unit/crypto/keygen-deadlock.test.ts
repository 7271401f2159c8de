/**
 * Regression: key generation through generateKeyPairSync + a JWK export deadlocked Node 20 (the
 * main thread stuck in ~KeyGenJob -> uv_mutex_lock during a GC inside KeyObjectHandle::ExportJWK,
 * 0% CPU; a plain loop of the old code hung within ~20,000 generations). The native provider now
 * derives key pairs from random bytes. Run in a child process so a hang fails under a deadline
 * instead of hanging the suite.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const PROVIDER = fileURLToPath(new URL('../../../runtime/trust/crypto/native.js', import.meta.url))
const COUNT = 40_000
const DEADLINE_MS = 60_000

test(`generating ${COUNT} key pairs with the native provider never deadlocks`, async (t) => {
  const script = `
    const { createNativeCryptoProvider } = await import(${JSON.stringify(PROVIDER)})
    const p = createNativeCryptoProvider()
    for (let i = 0; i < ${COUNT}; i++) (i % 2 ? p.ed25519GenerateKeyPair() : p.x25519GenerateKeyPair())
    console.log('done')
  `
  const started = performance.now()
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS)
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null]
  clearTimeout(timer)
  t.diagnostic(`${COUNT} key pairs in ${(performance.now() - started).toFixed(0)} ms`)
  assert.equal(signal, null, `killed after ${DEADLINE_MS} ms: the generation loop hung`)
  assert.equal(code, 0)
  assert.equal(out.trim(), 'done')
})
