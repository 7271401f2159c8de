/**
 * Credit accounting of one portal direction and the node-wide pool: an honest sender never
 * trips the receiver's check, whatever the interleaving; a sender that overshoots does, with
 * the typed error; windows and the pool bound what is outstanding and held.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import { PORTAL_DATA_COST_OVERHEAD, PORTAL_MIN_GRANT_BYTES } from '../../../workers/portal/constants.js'
import { CreditReceiver, CreditSender, dataCost } from '../../../workers/portal/credit.js'
import { CreditPool } from '../../../workers/portal/credit-pool.js'

const KiB = 1024

test('the first grant is the window; consuming within it works, beyond it is CREDIT_EXCEEDED', () => {
  const pool = new CreditPool(1024 * KiB)
  const receiver = new CreditReceiver(64 * KiB, pool)
  assert.equal(receiver.grant(), 64 * KiB)
  assert.equal(pool.reserved, 64 * KiB)
  const cost = receiver.consume(1000)
  assert.equal(cost, 1000 + PORTAL_DATA_COST_OVERHEAD)
  assert.equal(receiver.outstanding, 64 * KiB - cost)
  assert.equal(receiver.held, cost)
  assert.equal(pool.held, cost)
  assert.throws(
    () => receiver.consume(64 * KiB),
    (error) => isOckamError(error, 'OCKAM_ERR_PORTAL_CREDIT_EXCEEDED'),
  )
})

test('credit comes back in batches of a quarter window, only after bytes are written out', () => {
  const pool = new CreditPool(1024 * KiB)
  const receiver = new CreditReceiver(64 * KiB, pool)
  receiver.grant()
  const small = receiver.consume(8 * KiB)
  assert.equal(receiver.grant(), 0, 'nothing to grant while the bytes are held')
  receiver.flushed(small)
  assert.equal(receiver.grant(), 0, 'an eighth of the window is below the batching threshold')
  const more = receiver.consume(10 * KiB)
  receiver.flushed(more)
  const granted = receiver.grant()
  assert.equal(granted, small + more)
  assert.equal(receiver.outstanding, 64 * KiB)
  assert.equal(pool.reserved, 64 * KiB)
  assert.equal(pool.held, 0)
})

test('returned credit leaves the pool; returning more than outstanding is a protocol error', () => {
  const pool = new CreditPool(1024 * KiB)
  const receiver = new CreditReceiver(64 * KiB, pool)
  receiver.grant()
  receiver.returned(60 * KiB)
  assert.equal(receiver.outstanding, 4 * KiB)
  assert.equal(pool.reserved, 4 * KiB)
  // The stream asks for a grant only after a flush (the sender was active again); then it tops up.
  assert.equal(receiver.grant(), 60 * KiB)
  receiver.returned(60 * KiB)
  assert.throws(
    () => receiver.returned(5 * KiB),
    (error) => isOckamError(error, 'OCKAM_ERR_PORTAL_PROTOCOL'),
  )
  receiver.close()
  assert.equal(pool.reserved, 0)
})

test('the node-wide pool bounds 10,000 receivers: full windows while it is half free, fair shares after', () => {
  const pool = new CreditPool(8 * 1024 * KiB)
  const receivers = Array.from({ length: 10_000 }, () => new CreditReceiver(256 * KiB, pool))
  assert.equal(pool.members, 10_000)
  const grants = receivers.map((r) => r.grant())
  assert.equal(
    grants.reduce((a, b) => a + b, 0),
    pool.limit,
    'the whole pool and no more',
  )
  // The first 16 fill half the pool with whole windows; then each gets the fair share, which
  // for 10,000 receivers of 8 MiB is below the minimum grant, so the minimum.
  assert.deepEqual(grants.slice(0, 16), Array(16).fill(256 * KiB))
  assert.ok(grants.slice(16, 16 + 1024).every((g) => g === PORTAL_MIN_GRANT_BYTES))
  const waiting = receivers.filter((_, i) => grants[i] === 0)
  assert.equal(waiting.length, 10_000 - 16 - 1024)
  assert.ok(waiting.every((r) => r.wantsMore))
  const woken: number[] = []
  for (const [i, r] of waiting.slice(0, 100).entries()) {
    pool.wait(() => {
      woken.push(i)
      r.grant()
    })
  }
  // A whole window comes back: the first waiters in line each get their share of it.
  receivers[0]?.close()
  assert.deepEqual(
    woken,
    Array.from({ length: 64 }, (_, i) => i),
  )
  assert.equal(pool.waiting, 36)
  assert.equal(pool.reserved, pool.limit)
})

test('a receiver alone may take its whole window; a short pool grants what is left if at least the minimum', () => {
  const pool = new CreditPool(100 * KiB)
  const a = new CreditReceiver(96 * KiB, pool)
  assert.equal(a.grant(), 96 * KiB, 'alone, past half the pool: still the whole window')
  const b = new CreditReceiver(96 * KiB, pool)
  assert.equal(b.grant(), 4 * KiB, 'what is left')
  const c = new CreditReceiver(96 * KiB, pool)
  assert.equal(c.grant(), 0)
  assert.ok(c.wantsMore)
  a.close()
  assert.equal(pool.members, 2)
  assert.equal(c.grant(), 50 * KiB, 'past half the pool, two members: half of it each at most')
})

test('the sender sends at most its credit, counting the per-message overhead, and keeps some when idle', () => {
  const sender = new CreditSender()
  assert.equal(sender.sendable(48 * KiB), 0)
  sender.add(PORTAL_DATA_COST_OVERHEAD)
  assert.equal(sender.sendable(48 * KiB), 0, 'the overhead alone carries no byte')
  sender.add(100)
  assert.equal(sender.sendable(48 * KiB), 100)
  sender.spend(100)
  assert.equal(sender.available, 0)
  assert.throws(
    () => sender.spend(1),
    (error) => isOckamError(error, 'OCKAM_ERR_INTERNAL'),
  )
  sender.add(100 * KiB)
  assert.equal(sender.sendable(48 * KiB), 48 * KiB)
  assert.equal(sender.giveBack(8 * KiB), 92 * KiB)
  assert.equal(sender.available, 8 * KiB)
  assert.equal(sender.giveBack(8 * KiB), 0)
})

test('regression: after an idle return the sender does not wait for a grant that will not come', () => {
  const pool = new CreditPool(1024 * KiB)
  const receiver = new CreditReceiver(64 * KiB, pool)
  const sender = new CreditSender()
  sender.add(receiver.grant())
  // A small message, flushed while the sender still holds most of the window: no grant is due.
  sender.spend(100)
  receiver.flushed(receiver.consume(100))
  assert.equal(receiver.grant(), 0)
  // Idle: the sender gives back all but 8 KiB. With 20 KiB pending it must send what it can.
  receiver.returned(sender.giveBack(8 * KiB))
  assert.equal(sender.nextLength(20 * KiB, 48 * KiB), 8 * KiB - PORTAL_DATA_COST_OVERHEAD)
})

test('a sender with credit for a sliver waits while a grant is due, and sends when none is', () => {
  const sender = new CreditSender()
  sender.add(10 * KiB)
  assert.equal(sender.nextLength(5 * KiB, 48 * KiB), 5 * KiB, 'everything pending fits')
  assert.equal(sender.nextLength(64 * KiB, 48 * KiB), 10 * KiB - PORTAL_DATA_COST_OVERHEAD, 'no grant due yet')
  sender.spend(1 * KiB)
  assert.equal(sender.nextLength(64 * KiB, 48 * KiB), 0, 'a grant is due: wait for it')
  sender.add(64 * KiB)
  assert.equal(sender.nextLength(64 * KiB, 48 * KiB), 48 * KiB)
})

test('slow start: the first grant is small, small traffic is only replaced, a sender that runs short grows', () => {
  const pool = new CreditPool(8 * 1024 * KiB)
  const receiver = new CreditReceiver(1024 * KiB, pool, 8 * KiB)
  assert.equal(receiver.grant(), 8 * KiB)
  assert.equal(pool.reserved, 8 * KiB)
  // A small request, written out: the 1,300 units come back (the sender may hold a sliver it
  // will not send while a grant is due), the effective window stays 8 KiB.
  receiver.flushed(receiver.consume(1024))
  assert.equal(receiver.grant(), 1024 + PORTAL_DATA_COST_OVERHEAD)
  assert.equal(receiver.target, 8 * KiB)
  assert.equal(pool.reserved, 8 * KiB)
  // The sender uses its whole credit: each time, the effective window doubles, up to the window.
  const targets: number[] = []
  for (let i = 0; i < 10; i++) {
    receiver.flushed(receiver.consume(receiver.outstanding - PORTAL_DATA_COST_OVERHEAD))
    const granted = receiver.grant()
    targets.push(receiver.target)
    assert.equal(granted, receiver.target, 'the grant fills the new effective window')
  }
  assert.deepEqual(
    targets,
    [16, 32, 64, 128, 256, 512, 1024, 1024, 1024, 1024].map((k) => k * KiB),
  )
  // Idle: the sender gives back all but 8 KiB; the next small message is replaced, not topped up to 1 MiB.
  receiver.returned(receiver.outstanding - 8 * KiB)
  assert.equal(receiver.target, 8 * KiB)
  assert.equal(pool.reserved, 8 * KiB)
  receiver.flushed(receiver.consume(100))
  assert.equal(receiver.grant(), 100 + PORTAL_DATA_COST_OVERHEAD)
  receiver.close()
  assert.equal(pool.reserved, 0)
})

test('slow start: a sender of small messages with credit to spare does not grow the window, however much it sends', () => {
  const pool = new CreditPool(8 * 1024 * KiB)
  const receiver = new CreditReceiver(1024 * KiB, pool, 64 * KiB)
  receiver.grant()
  for (let i = 0; i < 1000; i++) {
    receiver.flushed(receiver.consume(4 * KiB))
    receiver.grant()
  }
  assert.equal(receiver.target, 64 * KiB)
  assert.ok(receiver.outstanding >= 32 * KiB)
})

test('slow start: a bulk sender grows the window although grants keep ahead of it', () => {
  const pool = new CreditPool(8 * 1024 * KiB)
  const receiver = new CreditReceiver(1024 * KiB, pool, 8 * KiB)
  let credit = receiver.grant()
  // Full chunks (or what credit allows), each flushed and granted back before the next arrives.
  for (let i = 0; i < 100; i++) {
    const bytes = Math.min(65_002, credit - PORTAL_DATA_COST_OVERHEAD)
    credit -= dataCost(bytes)
    receiver.flushed(receiver.consume(bytes))
    credit += receiver.grant()
  }
  assert.equal(receiver.target, 1024 * KiB)
})

test('regression: a small effective window grants when the sender may be stuck on a sliver', () => {
  const pool = new CreditPool(1024 * KiB)
  const receiver = new CreditReceiver(1024 * KiB, pool, 8 * KiB)
  const sender = new CreditSender()
  sender.add(receiver.grant())
  sender.spend(100)
  receiver.flushed(receiver.consume(100))
  // 20 KiB pending, credit for under 8 KiB and a grant due: the sender waits for it...
  assert.equal(sender.nextLength(20 * KiB, 48 * KiB), 0)
  // ...and the receiver, with nothing left to flush, sends it although it is under the batch size.
  const granted = receiver.grant()
  assert.equal(granted, 100 + PORTAL_DATA_COST_OVERHEAD)
  sender.add(granted)
  assert.equal(sender.nextLength(20 * KiB, 48 * KiB), 8 * KiB - PORTAL_DATA_COST_OVERHEAD)
})

test('a first grant outside the minimum grant to the window is refused', () => {
  const pool = new CreditPool(1024 * KiB)
  for (const start of [0, PORTAL_MIN_GRANT_BYTES - 1, 64 * KiB + 1, 1.5 * KiB]) {
    assert.throws(
      () => new CreditReceiver(64 * KiB, pool, start),
      (error) => isOckamError(error, 'OCKAM_ERR_INVALID_ARGUMENT'),
    )
  }
})

/**
 * A model of one direction with messages in flight both ways: an honest sender (with its wait
 * rule) and the receiver, driven by a random schedule. The receiver's own check is the
 * conformance assertion (it throws on overshoot); the test also checks the window and pool
 * bounds after every step, and liveness at the end: once everything in flight is delivered and
 * flushed, a sender with bytes pending can always send.
 */
test('whatever the interleaving, an honest sender stays within credit, the bounds hold, and it never deadlocks', () => {
  type Step = 'read' | 'send' | 'deliverData' | 'flush' | 'deliverCredit' | 'idle'
  const stepArb = fc.constantFrom<Step>('read', 'send', 'send', 'deliverData', 'flush', 'deliverCredit', 'idle')
  fc.assert(
    fc.property(
      fc.array(fc.tuple(stepArb, fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 70_000 }))), {
        maxLength: 200,
      }),
      fc.integer({ min: 32, max: 128 }),
      fc.constantFrom(16 * KiB, 48 * KiB, 65_002),
      // The first grant: the whole window, or a slow start from a few KiB.
      fc.constantFrom(0, 4 * KiB, 8 * KiB, 16 * KiB, 20 * KiB),
      (steps, windowKiB, maxChunk, startBytes) => {
        const window = windowKiB * KiB
        const pool = new CreditPool(window * 2)
        const receiver = new CreditReceiver(window, pool, startBytes === 0 ? window : startBytes)
        const sender = new CreditSender()
        const toReceiver: Array<{ kind: 'data'; bytes: number } | { kind: 'return'; amount: number }> = []
        const toSender: number[] = []
        const held: number[] = []
        let pending = 0
        sender.add(receiver.grant())
        const send = () => {
          const n = sender.nextLength(pending, maxChunk)
          if (n === 0) return false
          sender.spend(n)
          pending -= n
          toReceiver.push({ kind: 'data', bytes: n })
          return true
        }
        const deliver = () => {
          const m = toReceiver.shift()
          if (m?.kind === 'data') held.push(receiver.consume(m.bytes))
          else if (m?.kind === 'return') receiver.returned(m.amount)
        }
        const flush = () => {
          const cost = held.shift()
          if (cost === undefined) return
          receiver.flushed(cost)
          const g = receiver.grant()
          if (g > 0) toSender.push(g)
        }
        const check = () => {
          const inFlight = toReceiver.reduce((sum, m) => sum + (m.kind === 'data' ? dataCost(m.bytes) : m.amount), 0)
          const creditInFlight = toSender.reduce((sum, g) => sum + g, 0)
          // What the sender may still send, plus what is on the way, is what the receiver granted.
          assert.equal(sender.available + inFlight + creditInFlight, receiver.outstanding)
          assert.ok(receiver.outstanding + receiver.held <= receiver.target)
          assert.ok(receiver.target <= window)
          assert.ok(pool.reserved <= pool.limit)
          assert.equal(pool.reserved, receiver.outstanding + receiver.held)
        }
        for (const [step, size] of steps) {
          if (step === 'read') pending += size
          else if (step === 'send') send()
          else if (step === 'deliverData') deliver()
          else if (step === 'flush') flush()
          else if (step === 'deliverCredit') {
            const g = toSender.shift()
            if (g !== undefined) sender.add(g)
          } else if (step === 'idle' && pending === 0) {
            const back = sender.giveBack(8 * KiB)
            if (back > 0) toReceiver.push({ kind: 'return', amount: back })
          }
          check()
        }
        // Quiesce: deliver and flush everything, hand every grant over, send what can go; repeat.
        for (let rounds = 0; pending > 0 && rounds < 10_000; rounds++) {
          while (send()) {}
          while (toReceiver.length > 0) deliver()
          while (held.length > 0) flush()
          for (const g of toSender.splice(0)) sender.add(g)
          check()
          if (pending > 0 && toReceiver.length === 0 && sender.nextLength(pending, maxChunk) === 0) {
            assert.fail(`deadlock: ${pending} pending, ${sender.available} credit, nothing in flight`)
          }
        }
        assert.equal(pending, 0)
      },
    ),
    { numRuns: 1_500 },
  )
})
