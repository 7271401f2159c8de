import assert from 'node:assert/strict'
import { basename, dirname } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { findExecutable, missingBaselinesMessage } from '../../../bench/helpers/baselines.js'
import { formatNumber, formatSpread } from '../../../bench/helpers/format.js'
import { RawFrameSplitter, rawFrame } from '../../../bench/helpers/raw-frames.js'
import { median, pairedRatios, percentile, summarizeLatencies } from '../../../bench/helpers/stats.js'

test('percentile interpolates between ranks; median does not depend on input order', () => {
  assert.equal(percentile([10, 20, 30, 40], 50), 25)
  assert.equal(percentile([10, 20, 30, 40], 0), 10)
  assert.equal(percentile([10, 20, 30, 40], 100), 40)
  assert.ok(Math.abs(percentile([0, 100], 99) - 99) < 1e-9)
  assert.equal(median([3, 1, 2]), 2)
  assert.ok(Number.isNaN(percentile([], 50)))
})

test('summarizeLatencies uses only the recorded prefix of the sample buffer', () => {
  const samples = new Float64Array([5, 1, 3, 1000, 1000])
  const summary = summarizeLatencies(samples, 3)
  assert.deepEqual(summary, { count: 3, p50: 3, p99: percentile([1, 3, 5], 99), mean: 3 })
})

test('pairedRatios summarizes per-round ratios, not the ratio of medians', () => {
  // Round 2 is slow for both: pairing cancels the drift.
  const ours = [110, 220, 105]
  const raw = [100, 200, 100]
  const s = pairedRatios(ours, raw)
  assert.equal(s.median, 1.1)
  assert.equal(s.min, 1.05)
  assert.equal(s.max, 1.1)
  assert.equal(formatSpread(s), '1.10× [1.05–1.10]')
  assert.throws(() => pairedRatios([1, 2], [1]), RangeError)
})

test('formatNumber keeps three significant digits and separates thousands', () => {
  assert.equal(formatNumber(1234567.8), '1,234,568')
  assert.equal(formatNumber(123.4), '123')
  assert.equal(formatNumber(12.34), '12.3')
  assert.equal(formatNumber(1.234), '1.23')
  assert.equal(formatNumber(0.01234), '0.0123')
})

test('the raw splitter yields the same frames however the stream is cut', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
      (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map(rawFrame))
        const splitter = new RawFrameSplitter()
        const seen: Buffer[] = []
        let offset = 0
        for (let i = 0; offset < stream.length; i++) {
          const size = cuts[i % cuts.length] as number
          splitter.push(stream.subarray(offset, offset + size), (frame) => seen.push(Buffer.from(frame.subarray(4))))
          offset += size
        }
        assert.deepEqual(
          seen.map((b) => b.toString('hex')),
          payloads.map((p) => Buffer.from(p).toString('hex')),
        )
      },
    ),
    { numRuns: 200 },
  )
})

test('missing baselines are named with the apt-get command that installs them', () => {
  const message = missingBaselinesMessage([
    { command: 'iperf3', debianPackage: 'iperf3', purpose: 'bulk', path: undefined },
    { command: 'pgbench', debianPackage: 'postgresql', purpose: 'tps', path: undefined },
    { command: 'postgres', debianPackage: 'postgresql', purpose: 'server', path: undefined },
    { command: 'ssh', debianPackage: 'openssh-client', purpose: 'client', path: '/usr/bin/ssh' },
  ])
  assert.ok(message?.startsWith('MISSING BASELINES: iperf3 (bulk), pgbench (tps), postgres (server).'))
  assert.ok(message?.endsWith('sudo apt-get install iperf3 postgresql'))
  assert.equal(
    missingBaselinesMessage([{ command: 'ssh', debianPackage: 'x', purpose: 'y', path: '/usr/bin/ssh' }]),
    undefined,
  )
})

test('findExecutable looks through PATH and reports absence as undefined', () => {
  const env = { PATH: dirname(process.execPath) }
  assert.equal(findExecutable(basename(process.execPath), env), process.execPath)
  assert.equal(findExecutable('no-such-command-for-ockam-bench', env), undefined)
})
