import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RateLimitedLog } from '../../../runtime/rate-limited-log.js'
import { captureLog } from '../../helpers/log-capture.js'

test('one line per key per window; the next line says how many were suppressed', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
  const logs = captureLog('rl')
  const limited = new RateLimitedLog(logs.log, 10_000)
  for (let i = 0; i < 500; i++) limited.warn('A', { code: 'A' }, 'a')
  limited.warn('B', { code: 'B' }, 'b')
  assert.equal(logs.withCode('A').length, 1)
  assert.equal(logs.withCode('B').length, 1)
  t.mock.timers.tick(10_000)
  limited.warn('A', { code: 'A' }, 'a')
  const lines = logs.withCode('A')
  assert.equal(lines.length, 2)
  assert.equal(lines[1]?.suppressed, 499)
})

test('a window of 0 logs every line', () => {
  const logs = captureLog('rl')
  const limited = new RateLimitedLog(logs.log, 0)
  for (let i = 0; i < 5; i++) limited.warn('A', { code: 'A' }, 'a')
  assert.equal(logs.withCode('A').length, 5)
})
