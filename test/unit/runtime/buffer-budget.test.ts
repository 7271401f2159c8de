import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BufferBudget } from '../../../runtime/buffer-budget.js'
import { isOckamError } from '../../../runtime/errors.js'

test('the budget counts bytes, reports exhaustion and wakes every waiter when bytes return', async () => {
  const budget = new BufferBudget(100)
  await budget.whenAvailable()
  budget.take(60)
  budget.take(60)
  assert.equal(budget.used, 120)
  assert.ok(budget.exhausted)
  let woken = 0
  const waiters = [budget.whenAvailable(), budget.whenAvailable()].map((p) => p.then(() => woken++))
  budget.release(10)
  assert.ok(budget.exhausted) // 110 is still over the limit: nobody is woken
  await new Promise<void>((resolve) => setImmediate(resolve))
  assert.equal(woken, 0)
  budget.release(20)
  await Promise.all(waiters)
  assert.equal(woken, 2)
  budget.release(1000)
  assert.equal(budget.used, 0, 'never negative')
  assert.throws(
    () => new BufferBudget(0),
    (e) => isOckamError(e, 'OCKAM_ERR_INVALID_ARGUMENT'),
  )
})
