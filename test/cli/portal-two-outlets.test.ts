/**
 * Issue 7 (DESIGN §7): two outlets behind one relay, reached as `postgres:a` and `postgres:b`,
 * with real CLI processes in three state folders and two distinguishable TCP servers.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { ok } from '../helpers/node-cli.js'
import { ask, enrolled, freePort, startProject, startTarget } from '../helpers/portal-cli.js'

test('two outlets behind one relay: inlets to postgres:a and postgres:b reach their own targets', {
  timeout: 90_000,
}, async (t) => {
  const project = await startProject(t, 'ockam-two')
  const bank = await enrolled(t, project, 'ockam-two-bank', 'postgres')
  const analysis = await enrolled(t, project, 'ockam-two-analysis')
  const a = await startTarget(t, 'target-a')
  const b = await startTarget(t, 'target-b')
  await ok(['tcp-outlet', 'create', '--to', String(a.port), '--from', 'a'], bank.env)
  await ok(['tcp-outlet', 'create', '--to', String(b.port), '--from', 'b'], bank.env)
  await ok(['relay', 'create', 'postgres'], bank.env)
  const inletA = await freePort()
  const inletB = await freePort()
  await ok(['tcp-inlet', 'create', '--from', String(inletA), '--to', 'postgres:a'], analysis.env)
  await ok(['tcp-inlet', 'create', '--from', String(inletB), '--to', 'postgres:b'], analysis.env)

  for (const [port, name] of [
    [inletA, 'target-a'],
    [inletB, 'target-b'],
    [inletA, 'target-a'],
  ] as const) {
    const data = randomBytes(256 * 1024).toString('hex')
    const answer = await ask(port, data)
    assert.equal(answer.ending, 'end', `a clean end through ${port}`)
    assert.equal(answer.name, name, `the inlet on ${port} reaches ${name}`)
    assert.ok(answer.echoed, `the echo through ${port} is intact`)
  }
  // Both at once, on one relay registration: each answers from its own target.
  const both = await Promise.all([ask(inletA, 'x'.repeat(100_000)), ask(inletB, 'y'.repeat(100_000))])
  assert.deepEqual(
    both.map((r) => [r.name, r.echoed, r.ending]),
    [
      ['target-a', true, 'end'],
      ['target-b', true, 'end'],
    ],
  )
})
