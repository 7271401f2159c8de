/** The shared session core: attempts retried with backoff until stopped; pings that give up after misses. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Backoff } from '../../../runtime/backoff.js'
import { OckamError } from '../../../runtime/errors.js'
import { keepAlive, runRetryLoop } from '../../../runtime/session-loop.js'

test('runRetryLoop runs attempts after each end until stopped, and aborts the running one', async () => {
  const stop = new AbortController()
  const ended: unknown[] = []
  let attempts = 0
  await runRetryLoop({
    stop: stop.signal,
    backoff: new Backoff({ initialMs: 1, maxMs: 2 }),
    attempt: async (cycle) => {
      attempts++
      if (attempts < 3) throw new Error(`attempt ${attempts}`)
      // The third stays up until the loop is stopped; its cycle signal says so.
      const aborted = new Promise((resolve) => cycle.signal.addEventListener('abort', resolve, { once: true }))
      stop.abort()
      await aborted
    },
    onEnded: (error) => ended.push((error as Error).message),
  })
  assert.equal(attempts, 3)
  assert.deepEqual(ended, ['attempt 1', 'attempt 2'], 'a stop is not reported as an ending')
})

test('keepAlive resets on an answer, gives up after maxMisses in a row, and throws other failures at once', async () => {
  const answers = [false, true, false, false]
  let misses = 0
  await assert.rejects(
    keepAlive({
      intervalMs: 1,
      maxMisses: 2,
      signal: new AbortController().signal,
      ping: async () => {
        if (answers.shift() !== true) throw new OckamError('OCKAM_ERR_TIMEOUT', 'no answer')
      },
      onMiss: () => misses++,
      lost: (n) => new OckamError('OCKAM_ERR_RELAY_LOST', `${n} missed`),
    }),
    (error: unknown) => error instanceof OckamError && error.message === '2 missed',
  )
  assert.equal(misses, 3, 'one miss, an answer, then two in a row')
  await assert.rejects(
    keepAlive({
      intervalMs: 1,
      maxMisses: 5,
      signal: new AbortController().signal,
      ping: async () => {
        throw new OckamError('OCKAM_ERR_RELAY_NOT_REGISTERED', 'forgotten')
      },
      isMiss: (error) => (error as OckamError).code === 'OCKAM_ERR_TIMEOUT',
      lost: (n) => new OckamError('OCKAM_ERR_RELAY_LOST', `${n} missed`),
    }),
    (error: unknown) => error instanceof OckamError && error.code === 'OCKAM_ERR_RELAY_NOT_REGISTERED',
  )
})
