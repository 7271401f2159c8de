import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isOckamError, OckamError } from '../../../runtime/errors.js'
import { Mailbox } from '../../../runtime/mailbox.js'

/** Whether a promise has settled, observed without waiting on timers. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  promise.then(
    () => {
      done = true
    },
    () => {
      done = true
    },
  )
  await new Promise<void>((resolve) => setImmediate(resolve))
  return done
}

test('a mailbox is a bounded FIFO', () => {
  const box = new Mailbox<number>(3)
  assert.ok(box.tryPush(1) && box.tryPush(2) && box.tryPush(3))
  assert.equal(box.tryPush(4), false)
  assert.equal(box.size, 3)
  assert.deepEqual([box.shift(), box.shift(), box.shift(), box.shift()], [1, 2, 3, undefined])
  assert.throws(
    () => new Mailbox(0),
    (e) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
  assert.throws(
    () => new Mailbox(1.5),
    (e) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
})

test('order and size survive many more items than the compaction threshold', () => {
  const box = new Mailbox<number>(10)
  let next = 0
  for (let i = 0; i < 5000; i++) {
    while (box.tryPush(next)) next++
    assert.equal(box.shift(), i)
  }
  assert.equal(box.size, next - 5000)
})

test('push waits for space and resumes, in order, when items are taken', async () => {
  const box = new Mailbox<string>(1)
  await box.push('a')
  const b = box.push('b')
  const c = box.push('c')
  assert.equal(await settled(b), false)
  assert.equal(box.waiting, 2)
  assert.equal(box.shift(), 'a')
  await b
  assert.equal(await settled(c), false)
  assert.equal(box.shift(), 'b')
  await c
  assert.equal(box.shift(), 'c')
  assert.equal(box.waiting, 0)
})

test('aborting a waiting push rejects it with OCKAM_ERR_ABORTED and frees its place', async () => {
  const box = new Mailbox<string>(1)
  box.tryPush('a')
  const controller = new AbortController()
  const aborted = box.push('x', controller.signal)
  const kept = box.push('b')
  assert.equal(box.waiting, 2)
  controller.abort(new Error('user gave up'))
  await assert.rejects(aborted, (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'))
  assert.equal(box.waiting, 1)
  // The next free slot goes to the producer that is still waiting, and 'x' never arrives.
  assert.equal(box.shift(), 'a')
  await kept
  assert.deepEqual([box.shift(), box.shift()], ['b', undefined])
  // An already-aborted signal is refused only when the push would have to wait.
  box.tryPush('full')
  await assert.rejects(box.push('late', AbortSignal.abort()), (e) => isOckamError(e, 'OCKAM_ERR_ABORTED'))
  assert.equal(box.shift(), 'full')
  await box.push('now', AbortSignal.abort())
  assert.equal(box.shift(), 'now')
})

test('close rejects every waiting producer and every later push, and drops queued items', async () => {
  const box = new Mailbox<string>(1)
  box.tryPush('a')
  const w1 = box.push('b')
  const w2 = box.push('c')
  const reason = new OckamError('OCKAM_ERR_STOPPED', 'worker stopped')
  box.close(reason)
  await assert.rejects(w1, (e) => e === reason)
  await assert.rejects(w2, (e) => e === reason)
  assert.equal(box.size, 0)
  assert.equal(box.waiting, 0)
  assert.equal(box.shift(), undefined)
  assert.throws(
    () => box.tryPush('d'),
    (e) => e === reason,
  )
  await assert.rejects(box.push('e'), (e) => e === reason)
})

test('a waiter woken by shift whose slot was taken by tryPush waits again instead of overfilling', async () => {
  const box = new Mailbox<string>(1)
  box.tryPush('a')
  const waiter = box.push('w')
  box.shift() // wakes the waiter, but before it runs...
  assert.ok(box.tryPush('thief')) // ...another producer takes the slot.
  assert.equal(await settled(waiter), false)
  assert.equal(box.size, 1)
  assert.equal(box.shift(), 'thief')
  await waiter
  assert.equal(box.shift(), 'w')
})
