import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Counters } from '../../../runtime/diagnostics.js'
import { isOckamError } from '../../../runtime/errors.js'
import { resolveThreads, TaskPool } from '../../../runtime/pool/task-pool.js'
import { createNativeCryptoProvider } from '../../../runtime/trust/crypto/native.js'
import { CRYPTO_TASK_MODULE, type Ed25519VerifyItem } from '../../../workers/tasks/crypto-tasks.js'

const provider = createNativeCryptoProvider()

function batch(n: number): Ed25519VerifyItem[] {
  const key = provider.ed25519GenerateKeyPair()
  return Array.from({ length: n }, (_, i) => {
    const message = Buffer.from(`message ${i}`)
    const signature = provider.ed25519Sign(key.secretKey, message)
    if (i % 3 === 2) signature[0] = (signature[0] as number) ^ 1
    return { publicKey: key.publicKey, message, signature }
  })
}

test("threads 'auto' is max(1, cores - 1); bad values are refused", () => {
  assert.ok(resolveThreads('auto') >= 1)
  assert.equal(resolveThreads(0), 0)
  assert.throws(
    () => resolveThreads(-1),
    (e) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
})

for (const threads of [0, 1, 2]) {
  test(`ed25519 batch verification runs with ${threads} thread(s) and the counters show where`, async (t) => {
    const counters = new Counters('test')
    const pool = new TaskPool(CRYPTO_TASK_MODULE, { threads, maxQueue: 8, idleTimeoutMs: 1000 }, counters)
    await pool.start()
    t.after(() => pool.stop())
    const results = await Promise.all(
      Array.from({ length: 4 }, () => pool.run<boolean[]>({ kind: 'ed25519-verify-batch', items: batch(30) })),
    )
    for (const result of results)
      assert.deepEqual(
        result,
        Array.from({ length: 30 }, (_, i) => i % 3 !== 2),
      )
    assert.equal(counters.get(threads === 0 ? 'pool.tasks.inline' : 'pool.tasks.threaded'), 4)
    assert.equal(counters.get(threads === 0 ? 'pool.tasks.threaded' : 'pool.tasks.inline'), 0)
    if (threads > 0) assert.equal(pool.stats().completed, 4)
  })
}

test('an error inside a task comes back with its code', async (t) => {
  const pool = new TaskPool(CRYPTO_TASK_MODULE, { threads: 1 }, new Counters('test'))
  await pool.start()
  t.after(() => pool.stop())
  await assert.rejects(pool.run({ kind: 'nope' }), (e) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'))
})

test('a full queue is a typed error, not unbounded growth', async (t) => {
  const counters = new Counters('test')
  const pool = new TaskPool(CRYPTO_TASK_MODULE, { threads: 1, maxQueue: 2 }, counters)
  await pool.start()
  t.after(() => pool.stop())
  const runs = Array.from({ length: 12 }, () => pool.run({ kind: 'ed25519-verify-batch', items: batch(200) }))
  const settled = await Promise.allSettled(runs)
  const rejected = settled.filter((s) => s.status === 'rejected')
  assert.ok(rejected.length > 0, 'some submissions must be refused')
  for (const r of rejected) assert.ok(isOckamError((r as PromiseRejectedResult).reason, 'OCKAM_ERR_POOL_QUEUE_FULL'))
  assert.equal(counters.get('pool.tasks.rejected'), rejected.length)
})

test('credential verification runs batched on the pool thread, same outcomes as inline', async (t) => {
  const { issue, makeAuthority, makeMember, subjectOf } = await import('../identity/credential-fixtures.js')
  const { T0 } = await import('../identity/fixtures.js')
  const authority = await makeAuthority()
  const member = await makeMember()
  const good = await issue(authority, member.identity)
  const expired = await issue(authority, member.identity, { created: T0 - 2000, expires: T0 - 1000 })
  const item = (presentation: Uint8Array) => ({
    kind: 'credential' as const,
    presentation,
    authorities: [authority.identity],
    subject: subjectOf(member.identity),
    now: T0 + 1,
  })
  const task = { kind: 'trust-verify-batch', items: [item(good), item(expired), item(good)] }
  const outcomes: Record<string, Array<{ ok: boolean; error?: { code: string } }>> = {}
  for (const threads of [0, 1]) {
    const counters = new Counters('test')
    const pool = new TaskPool(CRYPTO_TASK_MODULE, { threads }, counters)
    await pool.start()
    t.after(() => pool.stop())
    outcomes[threads] = await pool.run(task)
    assert.equal(counters.get(threads === 0 ? 'pool.tasks.inline' : 'pool.tasks.threaded'), 1)
  }
  assert.deepEqual(
    outcomes[1]?.map((o) => o.ok),
    [true, false, true],
  )
  assert.equal(outcomes[1]?.[1]?.error?.code, 'OCKAM_ERR_CREDENTIAL_EXPIRED')
  assert.deepEqual(structuredClone(outcomes[0]), outcomes[1])
})
