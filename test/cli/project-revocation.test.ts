/**
 * The project's Must-show (issue 6) with real CLI processes and three or more state folders:
 * who may register a relay name, a deleted member losing its channels and portals on the outlet
 * node (time measured) and staying out after that node restarts — also with the project node
 * stopped — and relays coming back by themselves after the project node restarts (time measured).
 * Waits poll `status`/`relay list` under one deadline; no fixed sleeps.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { runCli, tempHome } from '../helpers/cli.js'
import { json, ok } from '../helpers/node-cli.js'
import { freePort, poll } from '../helpers/portal-cli.js'

interface Home {
  readonly home: string
  readonly env: NodeJS.ProcessEnv
}

async function startProject(t: TestContext): Promise<Home & { port: number }> {
  const host = tempHome(t, 'ockam-rev-project-')
  const port = await freePort()
  await ok(['project', 'create', 'demo', '--listen', `127.0.0.1:${port}`], host.env)
  return { ...host, port }
}

/** A new state folder enrolled with a fresh ticket (`--relay NAME` when given); returns its identifier. */
async function member(t: TestContext, project: Home, label: string, relay?: string): Promise<Home & { id: string }> {
  const home = tempHome(t, `ockam-rev-${label}-`)
  const ticket = (
    await ok(['project', 'ticket', ...(relay === undefined ? [] : ['--relay', relay])], project.env)
  ).trim()
  const enrolled = await json<{ member: string }>(['enroll', ticket], home.env)
  return { ...home, id: enrolled.member }
}

interface NodeStatus {
  listeners: string[]
  counters: Record<string, number>
  secureChannels: Array<{ peerIdentifier?: string; state: string }>
}

async function nodeStatus(home: Home): Promise<NodeStatus> {
  const status = await json<{ nodes: NodeStatus[] }>(['status'], home.env)
  const node = status.nodes[0]
  assert.ok(node !== undefined, 'a node runs in the folder')
  return node
}

async function relayStatus(home: Home): Promise<string | undefined> {
  const listed = await json<{ relays: Array<{ summary: { status: string } }> }>(['relay', 'list'], home.env)
  return listed.relays[0]?.summary.status
}

async function echoServer(t: TestContext): Promise<number> {
  const server: Server = createServer((socket) => {
    // The outlet resets its connection when the portal is reset.
    socket.on('error', () => {})
    socket.pipe(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : 0
}

/** A client connection through the inlet that has echoed `hello`; resolves `ended` when it closes. */
async function portalClient(port: number): Promise<{ ended: Promise<{ how: string; at: number }> }> {
  const socket = connect({ host: '127.0.0.1', port })
  await once(socket, 'connect')
  const ended = new Promise<{ how: string; at: number }>((resolve) => {
    socket.once('close', () => resolve({ how: 'closed', at: performance.now() }))
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ how: error.code ?? 'error', at: performance.now() }))
  })
  socket.write('hello')
  const [echoed] = (await once(socket, 'data')) as [Buffer]
  assert.equal(echoed.toString(), 'hello')
  return { ended }
}

function failsWith(result: { code: number | null; stderr: string }, code: string): void {
  assert.notEqual(result.code, 0)
  assert.match(result.stderr, new RegExp(code), result.stderr)
}

test('relay names: only a member with the relay attribute registers it, nobody takes it over, a non-member gets nothing; after the project node restarts the relay is back by itself', {
  timeout: 120_000,
}, async (t) => {
  const project = await startProject(t)
  const owner = await member(t, project, 'owner', 'postgres')
  const plain = await member(t, project, 'plain')
  const rival = await member(t, project, 'rival', 'postgres')
  // A stranger who knows where the project is and whom to trust, but holds no membership.
  const stranger = tempHome(t, 'ockam-rev-stranger-')
  mkdirSync(stranger.home, { recursive: true, mode: 0o700 })
  writeFileSync(join(stranger.home, 'project.json'), JSON.stringify(projectRecord(owner)), { mode: 0o600 })

  failsWith(await runCli(['relay', 'create', 'postgres'], plain.env), 'OCKAM_ERR_RELAY_NOT_ALLOWED')
  await ok(['relay', 'create', 'postgres'], owner.env)
  assert.equal(await relayStatus(owner), 'up')
  failsWith(await runCli(['relay', 'create', 'postgres'], rival.env), 'OCKAM_ERR_RELAY_NAME_TAKEN')
  failsWith(await runCli(['relay', 'create', 'postgres'], stranger.env), 'OCKAM_ERR_AUTHORITY_ACCESS_DENIED')
  assert.equal(await relayStatus(owner), 'up', 'the refused attempts left the owner registered')

  // Through the relay a message reaches only the owner node's secure-channel listener (DESIGN
  // §12): its echo answers inside an end-to-end channel, and is refused when addressed straight.
  const via = `/ip4/127.0.0.1/tcp/${project.port}/secure/api/service/forward_to_postgres`
  assert.equal(await ok(['message', 'send', 'hi', '--to', `${via}/secure/api/service/echo`], plain.env), 'hi\n')
  const refusedBefore = (await nodeStatus(owner)).counters['relay.receiver.refused'] ?? 0
  const straight = await runCli(
    ['message', 'send', 'hi', '--to', `${via}/service/echo`, '--timeout', '2000'],
    plain.env,
  )
  failsWith(straight, 'OCKAM_ERR_TIMEOUT')
  assert.equal((await nodeStatus(owner)).counters['relay.receiver.refused'], refusedBefore + 1)

  await ok(['node', 'stop', 'demo'], project.env)
  await poll('the relay to notice the project is gone', async () =>
    (await relayStatus(owner)) === 'up' ? undefined : true,
  )
  const started = performance.now()
  await ok(['node', 'start', 'demo'], project.env)
  const back = await poll('the relay to be up again', async () =>
    (await relayStatus(owner)) === 'up' ? true : undefined,
  )
  t.diagnostic(
    `project node restart: relay up again ${back.ms.toFixed(0)} ms after node start returned (${(performance.now() - started).toFixed(0)} ms after it was run)`,
  )
  // Still owned: the rival cannot take the name while or after the owner reconnects.
  failsWith(await runCli(['relay', 'create', 'postgres'], rival.env), 'OCKAM_ERR_RELAY_NAME_TAKEN')
})

function projectRecord(home: Home): unknown {
  return JSON.parse(readFileSync(join(home.home, 'project.json'), 'utf8'))
}

test('deleting a member closes its channels and portals on the outlet node at once; it stays out after that node restarts, also with the project node stopped', {
  timeout: 120_000,
}, async (t) => {
  const project = await startProject(t)
  const bank = await member(t, project, 'bank', 'postgres')
  const analysis = await member(t, project, 'analysis')
  const target = await echoServer(t)
  const inletPort = await freePort()
  await ok(['tcp-outlet', 'create', '--to', String(target)], bank.env)
  await ok(['relay', 'create', 'postgres'], bank.env)
  await ok(['tcp-inlet', 'create', '--from', String(inletPort), '--to', 'postgres'], analysis.env)
  const client = await portalClient(inletPort)

  const bankListener = (await nodeStatus(bank)).listeners[0]
  assert.ok(bankListener !== undefined)
  const [host, port] = bankListener.split(':')
  const direct = ['message', 'send', '--to', `/ip4/${host}/tcp/${port}/secure/api/service/echo`, 'hi']
  // Before: the member reaches the bank node directly too (a member is admitted).
  assert.equal((await json<{ reply: string }>(direct, analysis.env)).reply, 'hi')
  const fromAnalysis = (s: NodeStatus) => s.secureChannels.filter((c) => c.peerIdentifier === analysis.id)
  assert.ok(fromAnalysis(await nodeStatus(bank)).length >= 1, 'the end-to-end channel is open on the bank node')

  const launched = performance.now()
  await ok(['project', 'member', 'delete', analysis.id], project.env)
  const deleted = performance.now()
  const closed = await poll('the bank node to close the deleted member’s channels', async () => {
    const status = await nodeStatus(bank)
    return fromAnalysis(status).length === 0 && (status.counters['project.revocations.enforced'] ?? 0) >= 1
      ? true
      : undefined
  })
  const ending = await client.ended
  t.diagnostic(
    `member delete: the inlet's client connection ended (${ending.how}) ${(ending.at - launched).toFixed(0)} ms after the command was run, ${(ending.at - deleted).toFixed(0)} ms after it returned (took ${(deleted - launched).toFixed(0)} ms); the bank node's status showed the channels closed ${closed.ms.toFixed(0)} ms after it returned (status polls included)`,
  )

  // On the project node too: the deleted member's channels there (its inlet's route) are closed.
  assert.equal(
    fromAnalysis(await nodeStatus(project)).length,
    0,
    'no channel of the deleted member on the project node',
  )

  const refused = async (why: string) => {
    failsWith(await runCli(direct, analysis.env), 'OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER')
    assert.equal(fromAnalysis(await nodeStatus(bank)).length, 0, why)
  }
  await refused('no channel of the deleted member after the deletion')

  await ok(['node', 'stop', 'default'], bank.env)
  await ok(['node', 'start', 'default'], bank.env)
  await refused('refused after the outlet node restarted')

  await ok(['node', 'stop', 'demo'], project.env)
  await ok(['node', 'stop', 'default'], bank.env)
  await ok(['node', 'start', 'default'], bank.env)
  await refused('refused after a restart while the project node is stopped')
  const status = await nodeStatus(bank)
  assert.equal(status.counters['project.revocations.subscribed'] ?? 0, 0, 'the project was unreachable')
  assert.ok((status.counters['project.revocations.enforced'] ?? 0) >= 1, 'the persisted revocation is enforced')
})
