import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { formatDuration, parseDuration } from '../../../runtime/duration.js'
import { isOckamError } from '../../../runtime/errors.js'

const invalid = (error: unknown) => isOckamError(error, 'OCKAM_ERR_DURATION_INVALID')

test('durations: whole numbers with one unit; anything else is a typed error', () => {
  assert.deepEqual(
    ['1s', '90s', '15m', '1h', '30d', '9999999999d'].map((text) => parseDuration(text)),
    [1, 90, 900, 3600, 2_592_000, 9_999_999_999 * 86_400],
  )
  for (const text of [
    '',
    '0s',
    '01m',
    '1',
    'h',
    '1.5h',
    '1h30m',
    '1e3s',
    ' 1h',
    '1h ',
    '+1h',
    '-1h',
    '1H',
    '1w',
    '99999999999d',
  ]) {
    assert.throws(() => parseDuration(text), invalid, JSON.stringify(text))
  }
  assert.throws(() => parseDuration(42 as unknown as string), invalid)
})

test('durations out of bounds are refused with the range in the hint', () => {
  assert.equal(parseDuration('365d', { maxSeconds: 365 * 86_400 }), 365 * 86_400)
  assert.throws(
    () => parseDuration('366d', { maxSeconds: 365 * 86_400 }),
    (error: unknown) => invalid(error) && /1s and 365d/.test((error as { hint: string }).hint),
  )
  assert.throws(() => parseDuration('30s', { minSeconds: 60 }), invalid)
})

test('parseDuration(formatDuration(s)) = s, and formatDuration picks the largest unit', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 9_999_999_999 }), (seconds) => {
      const text = formatDuration(seconds)
      assert.equal(parseDuration(text), seconds)
      assert.match(text, /^[1-9][0-9]*[smhd]$/)
    }),
    { numRuns: 500 },
  )
  assert.deepEqual([60, 3600, 86_400, 90, 7200].map(formatDuration), ['1m', '1h', '1d', '90s', '2h'])
})

test('any string: parseDuration returns a positive whole number or throws the typed error, nothing else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 24 }), fc.stringMatching(/^[0-9]{1,12}[smhdw]?$/)), (text) => {
      try {
        const seconds = parseDuration(text)
        assert.ok(Number.isSafeInteger(seconds) && seconds >= 1)
        assert.equal(formatDuration(seconds) === text || /^[1-9]/.test(text), true)
      } catch (error) {
        assert.ok(invalid(error), String(error))
      }
    }),
    { numRuns: 1000 },
  )
})
