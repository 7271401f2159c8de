/**
 * DESIGN §12: open portals are re-evaluated when the peer's credential expires or is refreshed,
 * against what the channel holds now (not the snapshot taken when the portal opened), and reset
 * on deny — with channels whose own trust policy (pinned identifiers) keeps them open, so only
 * the portal policy (`--allow`) can end the stream. The outlet runs as the real `tcp-outlet`
 * resource; the inlet side composes portalAccess and recheckOnPeerCredentials as `tcp-inlet` does.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { portalAccess, recheckOnPeerCredentials } from '../../runtime/resources/kinds/portal-access.js'
import { nodeTrust } from '../../runtime/resources/kinds/secure-channel-trust.js'
import { tcpOutletKind } from '../../runtime/resources/kinds/tcp-outlet.js'
import { openStateStore, type StateStore } from '../../runtime/state/store.js'
import { nowSeconds } from '../../runtime/trust/identity/validity.js'
import { createPolicyStore } from '../../runtime/trust/stored-policies.js'
import { startTcpInlet } from '../../workers/portal/inlet.js'
import {
  createSecureChannel,
  SECURE_CHANNEL_METRICS,
  startSecureChannelListener,
  trustIdentifiers,
} from '../../workers/secure-channel/index.js'
import { startTestNode, type TestNode } from '../helpers/testnet.js'
import { makeAuthority, makeMaterial, openVault, waitForCounter } from '../unit/secure-channel/fixtures.js'
import { connectTo, echoHandler, exchange, startTarget } from './portal-helpers.js'

const DEADLINE_MS = 10_000
/** Clock skew the channel grants past expiry (DEFAULT_CLOCK_SKEW_SECONDS). */
const SKEW_SECONDS = 60
/** How long the short credentials stay usable (s). */
const SHORT_SECONDS = 2

function stateStore(t: TestContext): StateStore {
  const root = mkdtempSync(join(tmpdir(), 'ockam-recheck-'))
  const store = openStateStore({ dir: join(root, 'home') })
  t.after(() => {
    store.close()
    rmSync(root, { recursive: true, force: true })
  })
  return store
}

/** A credential window that ends (with the skew) `seconds` from now. */
function endingIn(seconds: number): { created: number; expires: number } {
  const now = nowSeconds()
  return { created: now - 2 * SKEW_SECONDS, expires: now - SKEW_SECONDS + seconds }
}

async function until(what: string, check: () => boolean): Promise<void> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > DEADLINE_MS) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

interface Net {
  readonly outletNode: TestNode
  readonly inletNode: TestNode
  readonly inletPort: string
  readonly channel: Awaited<ReturnType<typeof createSecureChannel>>
  readonly issue: (
    attributes: Record<string, string>,
    window?: { created: number; expires: number },
  ) => Promise<Uint8Array>
}

/**
 * An outlet node running the `tcp-outlet` resource (allow `outletAllow`) to an echo target, and
 * an inlet node with a channel to it (each side pins the other's identifier) and an inlet with
 * `inletAllow` re-checked on credential changes. Credentials: `inletCredential`, `outletCredential`.
 */
async function net(
  t: TestContext,
  options: {
    /** The outlet's `--allow`; absent: a stored policy or the default decides. */
    outletAllow?: string
    inletAllow?: string
    inletCredential: (issue: Net['issue'], subject: 'inlet') => Promise<Uint8Array>
    outletCredential?: (issue: Net['issue']) => Promise<Uint8Array>
  },
): Promise<Net & { inletSubject: Awaited<ReturnType<typeof makeMaterial>>; outletStore: StateStore }> {
  const vault = await openVault(t)
  const authority = await makeAuthority(vault)
  const inletId = await makeMaterial(vault, { trustedAuthorities: [authority.identity] })
  const outletId = await makeMaterial(vault, { trustedAuthorities: [authority.identity] })
  const issueFor =
    (subject: typeof inletId) => (attributes: Record<string, string>, window?: { created: number; expires: number }) =>
      authority.issue(subject.identity, attributes, window)
  inletId.setCredentials([await options.inletCredential(issueFor(inletId), 'inlet')])
  if (options.outletCredential !== undefined)
    outletId.setCredentials([await options.outletCredential(issueFor(outletId))])

  const target = await startTarget(t, echoHandler)
  const outletNode = await startTestNode(t, 'outlet-node')
  await startSecureChannelListener(outletNode.node, {
    identity: outletId,
    trust: trustIdentifiers(inletId.identity.identifier),
  })
  const outletHost = { node: outletNode.node, log: outletNode.node.log, store: stateStore(t), resourceName: 'db' }
  await nodeTrust(outletHost, 'inline')
  const kind = tcpOutletKind()
  const outlet = await kind.start(
    outletHost,
    kind.validate({ to: target.address, ...(options.outletAllow === undefined ? {} : { allow: options.outletAllow }) }),
  )
  t.after(() => outlet.stop())

  const inletNode = await startTestNode(t, 'inlet-node', { listen: [] })
  const channel = await createSecureChannel(inletNode.node, [tcp(outletNode.address), local('api')], {
    identity: inletId,
    trust: trustIdentifiers(outletId.identity.identifier),
  })
  const inletHost = { node: inletNode.node, store: stateStore(t) }
  const trust = await nodeTrust(inletHost, 'inline')
  const access = portalAccess(
    inletHost,
    trust.identities,
    { name: 'inlet', type: 'tcp-inlet' },
    options.inletAllow === undefined ? { authorized: [outletId.identity.identifier] } : { allow: options.inletAllow },
  )
  const inlet = await startTcpInlet(inletNode.node, {
    listen: '127.0.0.1:0',
    to: [channel.address, local('outlet')],
    allow: (message) => access.allows(message),
    logWindowMs: 0,
  })
  t.after(() => inlet.stop())
  t.after(recheckOnPeerCredentials(inletNode.node, inlet, access, inletNode.node.log, 'inlet'))
  return {
    outletNode,
    outletStore: outletHost.store,
    inletNode,
    inletPort: inlet.address,
    channel,
    issue: issueFor(inletId),
    inletSubject: inletId,
  }
}

/** A client whose echo came back through the portal; the transfer resolves when it closes. */
async function openPortal(address: string) {
  const socket = await connectTo(address)
  const transfer = exchange(socket, undefined, { end: false })
  socket.write('hello')
  await new Promise<void>((resolve, reject) => {
    socket.once('data', () => resolve())
    socket.once('close', () => reject(new Error('the portal closed before it echoed')))
  })
  return { socket, transfer }
}

test('the inlet’s credential expires while the channel stays open: the outlet resets its portal (denied) and refuses new ones', {
  timeout: 20_000,
}, async (t) => {
  const n = await net(t, {
    outletAllow: '(= subject.role "client")',
    inletCredential: (issue) => issue({ role: 'client' }, endingIn(SHORT_SECONDS)),
  })
  const portal = await openPortal(n.inletPort)
  const started = performance.now()
  const ended = await portal.transfer
  const ms = performance.now() - started
  assert.equal(ended.ending, 'reset', 'the client saw a reset, not a FIN')
  assert.ok(n.channel.isOpen, 'the channel (pinned identifiers) stayed open: the portal policy ended the stream')
  const line = n.outletNode.logs.lines.find((l) => l.event === 'portal.recheck')
  assert.equal(line?.cause, 'expired')
  assert.equal(line?.code, 'OCKAM_ERR_PORTAL_DENIED')
  assert.equal(line?.reset, 1)
  assert.equal(
    n.outletNode.logs.withCode('OCKAM_ERR_PORTAL_DENIED').filter((l) => l.event === 'portal.reset').length,
    1,
  )
  // A new portal over the same channel is refused: the open is judged by the channel's attributes now.
  const again = await exchange(await connectTo(n.inletPort), Buffer.from('again'), { end: false })
  assert.equal(again.ending, 'reset')
  t.diagnostic(`portal reset ${ms.toFixed(0)} ms after it opened (credential usable ${SHORT_SECONDS} s)`)
})

test('a refreshed credential is judged again: the same role keeps the portal, another role resets it', {
  timeout: 20_000,
}, async (t) => {
  const n = await net(t, {
    outletAllow: '(= subject.role "client")',
    inletCredential: (issue) => issue({ role: 'client' }),
  })
  const portal = await openPortal(n.inletPort)
  const accepted = () => n.outletNode.node.counters.get(SECURE_CHANNEL_METRICS.refreshAccepted)
  await n.channel.refreshCredentials([await n.issue({ role: 'client' })])
  await waitForCounter(n.outletNode.node, SECURE_CHANNEL_METRICS.refreshAccepted, (v) => v >= 1, DEADLINE_MS)
  portal.socket.write('still')
  await new Promise((resolve) => portal.socket.once('data', resolve))
  assert.equal(n.outletNode.logs.lines.filter((l) => l.event === 'portal.recheck').length, 0)

  await n.channel.refreshCredentials([await n.issue({ role: 'guest' })])
  const ended = await portal.transfer
  assert.equal(accepted(), 2)
  assert.equal(ended.ending, 'reset')
  assert.ok(n.channel.isOpen)
  const line = n.outletNode.logs.lines.find((l) => l.event === 'portal.recheck')
  assert.equal(line?.cause, 'refreshed')
  assert.equal(line?.peer, n.inletSubject.identity.identifier)
})

test('the outlet node’s credential expires: the inlet resets its portal by its own policy', {
  timeout: 20_000,
}, async (t) => {
  const n = await net(t, {
    outletAllow: '(= subject.role "client")',
    inletAllow: '(= subject.role "db")',
    inletCredential: (issue) => issue({ role: 'client' }),
    outletCredential: (issue) => issue({ role: 'db' }, endingIn(SHORT_SECONDS)),
  })
  const portal = await openPortal(n.inletPort)
  const ended = await portal.transfer
  assert.equal(ended.ending, 'reset')
  assert.ok(n.channel.isOpen)
  await until('the inlet logging the re-check', () =>
    n.inletNode.logs.lines.some((l) => l.event === 'portal.recheck' && l.cause === 'expired'),
  )
  await until('the outlet learning of the reset', () =>
    n.outletNode.logs.lines.some((l) => l.event === 'portal.reset' && l.reason === 'denied'),
  )
})

test('a policy stored for the outlet by its resource name applies to the next portal without a restart; has_credential is computed', {
  timeout: 20_000,
}, async (t) => {
  const n = await net(t, { inletCredential: (issue) => issue({ role: 'client' }) })
  // No --allow, no stored policy, no project: the default admits only the outlet folder's identities.
  const refused = await exchange(await connectTo(n.inletPort), Buffer.from('first'), { end: false })
  assert.equal(refused.ending, 'reset')
  const policies = createPolicyStore(n.outletStore.db)
  policies.set({ kind: 'resource', name: 'db' }, '(and (= subject.role "client") (= subject.has_credential "true"))')
  const portal = await openPortal(n.inletPort)
  portal.socket.write('admitted')
  await new Promise((resolve) => portal.socket.once('data', resolve))
  // Deleting it: the next open is judged by the default again.
  policies.delete({ kind: 'resource', name: 'db' })
  const again = await exchange(await connectTo(n.inletPort), Buffer.from('again'), { end: false })
  assert.equal(again.ending, 'reset')
  portal.socket.destroy()
})
