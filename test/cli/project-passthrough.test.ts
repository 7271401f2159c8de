/**
 * `project create --no-passthrough`: the project decides, for every member channel, that
 * end-to-end frames are sealed again on member connections (THREATS.md, the passthrough
 * decision). The walkthrough still works; the project node opens every frame and passes none.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { json } from '../helpers/node-cli.js'
import { ask, relayedPortal } from '../helpers/portal-cli.js'

interface StatusJson {
  readonly nodes: readonly { readonly name: string; readonly counters: Record<string, number> }[]
}

test('project create --no-passthrough: the portal through the relay works, and the project passes no frame through', {
  timeout: 120_000,
}, async (t) => {
  const { project, inlet } = await relayedPortal(t, 'ockam-nopass', {}, ['--no-passthrough'])
  for (let i = 0; i < 10; i++) {
    const answer = await ask(inlet, `request ${i} `.repeat(1000))
    assert.ok(answer.echoed && answer.ending === 'end', `request ${i} answered through the portal`)
  }
  const status = await json<StatusJson>(['status'], project.env)
  const counters = status.nodes.find((n) => n.name === 'demo')?.counters ?? {}
  t.diagnostic(
    `project node: ${counters['secure_channel.frames.received']} frames opened, ${counters['secure_channel.passthrough.received'] ?? 0} passed through`,
  )
  assert.ok((counters['secure_channel.frames.received'] ?? 0) >= 40, 'the project opened the end-to-end frames')
  assert.equal(counters['secure_channel.passthrough.received'] ?? 0, 0, 'nothing was passed through')
})
