import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Backoff, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS, sleep } from '../../../runtime/backoff.js'
import { isOckamError } from '../../../runtime/errors.js'

test('full jitter: each delay lies in [0, min(max, initial * factor^n)) with a fixed random', () => {
  const high = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, random: () => 0.999_999 })
  const ceilings = [100, 200, 400, 800, 1000, 1000, 1000]
  for (const [n, ceiling] of ceilings.entries()) {
    assert.equal(high.attempt, n)
    assert.equal(high.ceiling(), ceiling)
    assert.equal(high.next(), ceiling - 1)
  }
  const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 })
  for (let i = 0; i < 5; i++) assert.equal(low.next(), 0)
  const half = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 })
  assert.deepEqual([half.next(), half.next(), half.next()], [50, 100, 200])
})

test('the ceiling stays at the maximum however many attempts fail', () => {
  const b = new Backoff({ random: () => 0.999_999 })
  for (let i = 0; i < 5000; i++) b.next()
  assert.equal(b.ceiling(), DEFAULT_BACKOFF_MAX_MS)
  assert.ok(b.next() < DEFAULT_BACKOFF_MAX_MS)
})

test('reset starts again from the first ceiling', () => {
  const b = new Backoff({ random: () => 0.999_999 })
  b.next()
  b.next()
  b.next()
  b.reset()
  assert.equal(b.attempt, 0)
  assert.equal(b.ceiling(), DEFAULT_BACKOFF_INITIAL_MS)
})

test('invalid options are refused up front', () => {
  for (const options of [{ initialMs: 0 }, { initialMs: 10, maxMs: 5 }, { factor: 0.5 }, { initialMs: Number.NaN }]) {
    assert.throws(
      () => new Backoff(options),
      (e) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
    )
  }
})

test('wait resolves with the delay it waited', async () => {
  const b = new Backoff({ initialMs: 10, random: () => 0 })
  assert.equal(await b.wait(), 0)
  assert.equal(b.attempt, 1)
})

test('an abort during wait rejects at once with OCKAM_ERR_ABORTED (the hour-long timer is cleared)', async (t) => {
  const b = new Backoff({ initialMs: 3_600_000, maxMs: 3_600_000, random: () => 0.5 })
  const controller = new AbortController()
  const started = performance.now()
  const waiting = b.wait(controller.signal)
  queueMicrotask(() => controller.abort(new Error('stopping')))
  await assert.rejects(waiting, (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'))
  t.diagnostic(`aborted after ${(performance.now() - started).toFixed(1)} ms`)
  await assert.rejects(sleep(10, AbortSignal.abort()), (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'))
})
