/**
 * A member node's project services against a real authority, in one process over loopback TCP
 * with real secure channels and state folders: credential renewal before half-life (an open
 * channel's peer receives the fresh credential), and the revocation session (a deleted member's
 * channels close, it cannot reconnect, also after a restart with the project unreachable).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { type AuthorityService, createAuthorityService } from '../../runtime/authority/authority.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { OckamNode } from '../../runtime/node.js'
import { saveEnrolledProject } from '../../runtime/project/enrolled.js'
import { type MemberServices, startMemberServices } from '../../runtime/project/member-services.js'
import { revokedIdentities } from '../../runtime/project/revoked-identities.js'
import { startApiListener } from '../../runtime/resources/kinds/secure-channel-listener.js'
import { nodeTrust, setNodeIdentity } from '../../runtime/resources/kinds/secure-channel-trust.js'
import { createHeldCredentialRepository } from '../../runtime/state/held-credential-repository.js'
import { openStateStore, type StateStore } from '../../runtime/state/store.js'
import { startAuthorityWorkers } from '../../workers/authority/workers.js'
import {
  createSecureChannel,
  SECURE_CHANNEL_METRICS,
  type SecureChannel,
  trustAnyone,
  trustMembers,
} from '../../workers/secure-channel/index.js'
import { channelsOf, refuseChannelsOf } from '../../workers/secure-channel/registry.js'
import { startTestNode, type TestNode } from '../helpers/testnet.js'

/** Every wait ends by this deadline or fails. */
const DEADLINE_MS = 15_000
/** Credential lifetime in these tests (s): renewal at 40 % (1.6 s), channel refresh at half-life (2 s). */
const TTL_SECONDS = 4

interface Folder {
  readonly store: StateStore
  /** Stopped before the store closes. */
  readonly services: MemberServices[]
}

function folder(t: TestContext, prefix: string): Folder {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const store = openStateStore({ dir: join(root, 'home') })
  const services: MemberServices[] = []
  t.after(async () => {
    for (const running of services) await running.stop()
    store.close()
    rmSync(root, { recursive: true, force: true })
  })
  return { store, services }
}

/** Polls `check` (no fixed sleeps as synchronization) until it holds or the deadline passes. */
async function until(what: string, check: () => boolean): Promise<number> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > DEADLINE_MS) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return performance.now() - started
}

interface Project {
  readonly node: TestNode
  readonly folder: Folder
  readonly service: AuthorityService
  readonly admin: string
  stop(): Promise<void>
}

async function startProject(t: TestContext): Promise<Project> {
  const projectFolder = folder(t, 'ockam-ms-project-')
  const node = await startTestNode(t, 'demo')
  const trust = await nodeTrust({ node: node.node, store: projectFolder.store }, 'inline')
  const admin = await trust.identities.create('admin')
  await trust.identities.create('authority')
  const service = createAuthorityService({ db: projectFolder.store.db, identities: trust.identities })
  service.createProject({
    name: 'demo',
    authorityIdentity: 'authority',
    advertisedAddress: node.address,
    admin: admin.identifier,
    adminHistory: admin.identity.history,
  })
  const workers = await startAuthorityWorkers(node.node.context, service, { credentialTtlSeconds: TTL_SECONDS })
  setNodeIdentity(node.node, 'authority')
  const api = await startApiListener({ node: node.node, store: projectFolder.store }, { admits: trustAnyone() })
  return {
    node,
    folder: projectFolder,
    service,
    admin: admin.identifier,
    async stop() {
      await api.stop()
      await workers.stop()
      await node.node.stop()
    },
  }
}

interface Member {
  readonly node: TestNode
  readonly folder: Folder
  readonly identifier: string
}

/** A state folder enrolled in `project` (member with `attributes`, a short-lived credential held). */
async function enrollFolder(
  t: TestContext,
  project: Project,
  name: string,
  attributes: Record<string, string>,
  memberFolder = folder(t, `ockam-ms-${name}-`),
): Promise<Member> {
  const node = await startTestNode(t, name)
  const trust = await nodeTrust({ node: node.node, store: memberFolder.store }, 'inline')
  const identity = (await trust.identities.ensureDefault()).identity
  if (project.service.memberRole(identity.identifier) === undefined) {
    project.service.addMember(project.admin, identity.identifier, { attributes })
  }
  const issued = await project.service.issueMemberCredential(identity.identifier, {
    ttlSeconds: TTL_SECONDS,
    history: identity.history,
  })
  createHeldCredentialRepository(memberFolder.store.db).put({
    subject: identity.identifier,
    issuer: issued.credential.issuer,
    presentation: issued.presentation,
    validFrom: issued.credential.created,
    validUntil: issued.credential.expires,
    storedAt: Date.now(),
  })
  const authority = project.service.project()
  const authorityHistory = (await nodeTrust({ node: project.node.node, store: project.folder.store })).identities.get(
    authority.authorityIdentityName,
  ).identity.history
  saveEnrolledProject(memberFolder.store.dir, {
    name: 'demo',
    address: project.node.address,
    authority: authority.authority,
    authorityHistory: Buffer.from(authorityHistory).toString('base64url'),
    enrolledAt: Date.now(),
  })
  return { node, folder: memberFolder, identifier: identity.identifier }
}

const fastServices = {
  refresher: { backoff: { initialMs: 50, maxMs: 500 } },
  revocations: { backoff: { initialMs: 50, maxMs: 500 }, pingIntervalMs: 1_000 },
}

async function runServices(member: Member): Promise<MemberServices> {
  const services = await startMemberServices(
    { node: member.node.node, store: member.folder.store, log: member.node.logs.log },
    fastServices,
  )
  assert.ok(services !== undefined)
  member.folder.services.push(services)
  return services
}

async function channelTo(from: Member, to: Member): Promise<SecureChannel> {
  const trust = await nodeTrust({ node: from.node.node, store: from.folder.store })
  return createSecureChannel(from.node.node, [tcp(to.node.address), local('api')], {
    identity: await trust.material(),
    trust: trustMembers(),
    timeoutMs: 5_000,
  })
}

function counter(node: OckamNode, name: string): number {
  return node.counters.get(name)
}

test('a member node renews its credential before half-life; an open channel presents the fresh one and keeps its attributes', async (t) => {
  const project = await startProject(t)
  const bank = await enrollFolder(t, project, 'bank', { relay: 'postgres' })
  const analysis = await enrollFolder(t, project, 'analysis', { role: 'analyst' })
  const held = createHeldCredentialRepository(bank.folder.store.db)
  const first = held.list()[0]
  assert.ok(first !== undefined)
  await startApiListener({ node: bank.node.node, store: bank.folder.store })
  const services = await runServices(bank)

  const channel = await channelTo(analysis, bank)
  assert.deepEqual({ ...channel.attributes }, { relay: 'postgres' })
  const renewMs = await until('the bank node to renew its credential', () => services.refresher.state.renewals >= 1)
  const renewed = held.list()[0]
  assert.ok(renewed !== undefined && renewed.validUntil > first.validUntil)
  // The bank side re-presents at its half-life and sends the renewed credential (it changed).
  const refreshMs = await until(
    'the analysis side to accept a refreshed credential',
    () => counter(analysis.node.node, SECURE_CHANNEL_METRICS.refreshAccepted) >= 1,
  )
  assert.equal(channel.isOpen, true)
  assert.deepEqual({ ...channel.attributes }, { relay: 'postgres' })
  assert.ok(counter(bank.node.node, 'project.credential.renewed') >= 1)
  t.diagnostic(`renewal after ${renewMs.toFixed(0)} ms, refresh accepted by the peer after ${refreshMs.toFixed(0)} ms`)
})

test('a deleted member loses its channels on a member node at once and cannot reconnect, also after a restart with the project down', async (t) => {
  const project = await startProject(t)
  const bank = await enrollFolder(t, project, 'bank', { relay: 'postgres' })
  const analysis = await enrollFolder(t, project, 'analysis', { role: 'analyst' })
  await startApiListener({ node: bank.node.node, store: bank.folder.store })
  const services = await runServices(bank)
  await until('the revocation subscription', () => services.revocations.state.status === 'subscribed')

  const channel = await channelTo(analysis, bank)
  const started = performance.now()
  await project.service.deleteMember(project.admin, analysis.identifier)
  const closed = await channel.closed
  const closeMs = performance.now() - started
  assert.equal(closed.by, 'peer')
  assert.equal(closed.reason, 'refused')
  assert.equal(revokedIdentities(bank.node.node).has(analysis.identifier), true)
  await assert.rejects(channelTo(analysis, bank), (error) =>
    isOckamError(error, 'OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER'),
  )
  t.diagnostic(`member deletion to channel closed on the member node: ${closeMs.toFixed(1)} ms`)

  // The bank node restarts while the project is down: the persisted entry is refused before anything else.
  await services.stop()
  await bank.node.node.stop()
  await project.stop()
  const restarted = await enrollFolderless(t, bank)
  const again = await runServices(restarted)
  assert.equal(again.revocations.state.revoked, 1)
  await startApiListener({ node: restarted.node.node, store: restarted.folder.store })
  await assert.rejects(channelTo(analysis, restarted), (error) =>
    isOckamError(error, 'OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER'),
  )
  assert.notEqual(again.revocations.state.status, 'subscribed')
})

test('the revocation session reconnects after its channel to the project is lost, and gets what was revoked meanwhile', async (t) => {
  const project = await startProject(t)
  const bank = await enrollFolder(t, project, 'bank', { relay: 'postgres' })
  const analysis = await enrollFolder(t, project, 'analysis', { role: 'analyst' })
  const services = await runServices(bank)
  await until('the revocation subscription', () => services.revocations.state.status === 'subscribed')

  // Cut the bank's channels to the project (as a lost connection would), then revoke meanwhile.
  const router = bank.node.node.router
  const peers = new Set(channelsOf(router).map((channel) => channel.peerIdentifier))
  for (const peer of peers) {
    if (peer !== undefined) refuseChannelsOf(router, peer, new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', 'test: cut'))
  }
  await until('the subscription lost', () => counter(bank.node.node, 'project.revocations.lost') === 1)
  await project.service.deleteMember(project.admin, analysis.identifier)
  const ms = await until(
    'subscribed again, the revocation received',
    () =>
      services.revocations.state.status === 'subscribed' && revokedIdentities(bank.node.node).has(analysis.identifier),
  )
  t.diagnostic(`subscribed again and the revocation enforced ${ms.toFixed(0)} ms after the deletion`)
  assert.ok(services.revocations.state.subscriptions >= 2, `subscriptions: ${services.revocations.state.subscriptions}`)
  assert.equal(services.revocations.state.revoked, 1)
})

/** The same state folder on a new node (a restart), without touching the project. */
async function enrollFolderless(t: TestContext, member: Member): Promise<Member> {
  const node = await startTestNode(t, 'bank-again')
  await nodeTrust({ node: node.node, store: member.folder.store }, 'inline')
  return { node, folder: member.folder, identifier: member.identifier }
}
