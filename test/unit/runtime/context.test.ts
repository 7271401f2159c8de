import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local } from '../../../runtime/address.js'
import { isOckamError } from '../../../runtime/errors.js'
import { testRouter } from './router-fixtures.js'

test('request gets the first reply through a one-shot address that is gone afterwards', async () => {
  const { router } = testRouter()
  await router.startWorker([local('echo')], { handleMessage: (ctx, m) => ctx.reply(m, m.payload) })
  const app = await router.startWorker([local('app')], { handleMessage: () => {} })
  const reply = await app.request([local('echo')], Buffer.from('ping'), { timeoutMs: 5_000 })
  assert.equal(Buffer.from(reply.payload).toString(), 'ping')
  assert.deepEqual(
    router.workerAddresses().map((a) => a.value),
    ['echo', 'app'],
  )
})

// Regression: the timeout used AbortSignal.timeout, whose unref'd timer let this file's event
// loop run dry with the request pending (the test was cancelled instead of seeing the timeout).
test('request times out with OCKAM_ERR_TIMEOUT and is aborted with OCKAM_ERR_ABORTED', async (t) => {
  const { router } = testRouter()
  await router.startWorker([local('silent')], { handleMessage: () => {} })
  const app = await router.startWorker([local('app')], { handleMessage: () => {} })
  const started = performance.now()
  await assert.rejects(app.request([local('silent')], Buffer.alloc(0), { timeoutMs: 20 }), (e) =>
    isOckamError(e, 'OCKAM_ERR_TIMEOUT'),
  )
  t.diagnostic(`timed out after ${(performance.now() - started).toFixed(1)} ms (timeout 20 ms)`)
  const controller = new AbortController()
  const pending = app.request([local('silent')], Buffer.alloc(0), { signal: controller.signal })
  controller.abort()
  await assert.rejects(pending, (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'))
  await assert.rejects(app.request([local('silent')], Buffer.alloc(0), { signal: AbortSignal.abort() }), (e) =>
    isOckamError(e, 'OCKAM_ERR_ABORTED'),
  )
  assert.deepEqual(
    router.workerAddresses().map((a) => a.value),
    ['silent', 'app'],
  )
})

test('a request to nobody fails with OCKAM_ERR_ROUTER_NO_WORKER, not a timeout', async () => {
  const { router } = testRouter()
  const app = await router.startWorker([local('app')], { handleMessage: () => {} })
  await assert.rejects(app.request([local('nobody')], Buffer.alloc(0)), (e) =>
    isOckamError(e, 'OCKAM_ERR_ROUTER_NO_WORKER'),
  )
})

test('stopping a worker aborts its context signal, which ends its pending requests', async () => {
  const { router } = testRouter()
  await router.startWorker([local('silent')], { handleMessage: () => {} })
  const app = await router.startWorker([local('app')], { handleMessage: () => {} })
  const pending = app.request([local('silent')], Buffer.alloc(0))
  await router.stopWorker(local('app'))
  await assert.rejects(pending, (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'))
})
