/**
 * The relay service and receiver inside one router, with channel ingress forged as the secure
 * channel would stamp it (ingress is local metadata, so a unit test may set it): the service's
 * own map refuses a takeover even when the hook allows everything; only the owner's channel may
 * ping; the owner may answer only along routes that came in; limits per member; and relay
 * ingress reaches only the listener and the decryptors learned through the registration.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { allowAll, allowAnyIngress, allowIngress } from '../../../runtime/access-control.js'
import { type Address, local } from '../../../runtime/address.js'
import { Counters } from '../../../runtime/diagnostics.js'
import type { OckamErrorCode } from '../../../runtime/errors.js'
import { createLogger } from '../../../runtime/log.js'
import type { Ingress, Message } from '../../../runtime/message.js'
import { Router } from '../../../runtime/router.js'
import {
  decodeRelayResponse,
  encodeRelayRequest,
  type RelayRequestKind,
  type RelayResponse,
  startRelayReceiver,
  startRelayService,
} from '../../../workers/relay/index.js'

const ALICE = `I${'a'.repeat(64)}`
const MALLORY = `I${'b'.repeat(64)}`

function newRouter(name: string): Router {
  return new Router({ nodeName: name, log: createLogger({ name, level: 'silent' }), counters: new Counters(name) })
}

/** A worker that keeps what it receives. */
async function inbox(router: Router, name: string, incoming = allowAnyIngress): Promise<Message[]> {
  const received: Message[] = []
  await router.startWorker([local(name)], { handleMessage: (_ctx, m) => void received.push(m) }, { incoming })
  return received
}

function channelIngress(channel: string, identifier: string, attributes: Record<string, string> = {}): Ingress {
  return { kind: 'channel', channel, identifier, attributes }
}

/** Sends a request as if it came out of `channel` from `identifier`; answers land in `<channel>-in`. */
async function ask(
  router: Router,
  answers: Message[],
  channel: string,
  identifier: string,
  kind: RelayRequestKind,
  name: string,
): Promise<RelayResponse> {
  const before = answers.length
  await router.send({
    onward: [local('relay')],
    return: [local(channel), local(`${channel}-rx`)],
    payload: encodeRelayRequest({ kind, id: randomBytes(8), name }),
    local: { ingress: channelIngress(channel, identifier) },
  })
  for (let i = 0; i < 100 && answers.length === before; i++) await new Promise((r) => setImmediate(r))
  const answer = answers[before]
  assert.ok(answer !== undefined, 'no answer')
  return decodeRelayResponse(answer.payload)
}

function assertError(response: RelayResponse, code: OckamErrorCode): void {
  assert.ok(!response.ok, 'expected a refusal')
  assert.equal(response.error.code, code)
}

test("the service's own map refuses a takeover even when the hook allows it; only the owner's channel pings", async (t) => {
  const router = newRouter('project')
  t.after(() => router.stop())
  await startRelayService({ router }, { authorize: () => {}, maxNamesPerMember: 2 })
  const alice = await inbox(router, 'ch-alice', allowIngress('channel'))
  const mallory = await inbox(router, 'ch-mallory', allowIngress('channel'))

  const ok = await ask(router, alice, 'ch-alice', ALICE, 'register', 'postgres')
  assert.ok(ok.ok && ok.forwardAddress === 'forward_to_postgres')
  assertError(await ask(router, mallory, 'ch-mallory', MALLORY, 'register', 'postgres'), 'OCKAM_ERR_RELAY_NAME_TAKEN')
  assertError(await ask(router, mallory, 'ch-mallory', MALLORY, 'ping', 'postgres'), 'OCKAM_ERR_RELAY_NOT_REGISTERED')
  assertError(
    await ask(router, mallory, 'ch-mallory', MALLORY, 'unregister', 'postgres'),
    'OCKAM_ERR_RELAY_NOT_REGISTERED',
  )
  assertError(await ask(router, mallory, 'ch-mallory', MALLORY, 'register', 'Nope!'), 'OCKAM_ERR_RELAY_NAME_INVALID')
  assert.ok((await ask(router, alice, 'ch-alice', ALICE, 'ping', 'postgres')).ok)
  // Per-member limit on live names.
  assert.ok((await ask(router, alice, 'ch-alice', ALICE, 'register', 'web')).ok)
  assertError(await ask(router, alice, 'ch-alice', ALICE, 'register', 'third'), 'OCKAM_ERR_RELAY_CAPACITY')
  // A registration whose return route ends at the channel itself is refused.
  await router.send({
    onward: [local('relay')],
    return: [local('ch-mallory')],
    payload: encodeRelayRequest({ kind: 'register', id: randomBytes(8), name: 'bare' }),
    local: { ingress: channelIngress('ch-mallory', MALLORY) },
  })
  for (let i = 0; i < 100 && mallory.length < 5; i++) await new Promise((r) => setImmediate(r))
  assertError(decodeRelayResponse((mallory[4] as Message).payload), 'OCKAM_ERR_RELAY_MESSAGE_INVALID')
  // Not from a channel: refused by the router before the service sees it.
  await assert.rejects(
    router.send({
      onward: [local('relay')],
      return: [],
      payload: new Uint8Array(0),
      local: { ingress: { kind: 'tcp', connection: 'c', peer: 'p' } },
    }),
    (e: { code?: string }) => e.code === 'OCKAM_ERR_ROUTER_ACCESS_DENIED',
  )
})

test('forward_to_: inbound goes along the registration route; the owner answers only along routes that came in', async (t) => {
  const router = newRouter('project')
  t.after(() => router.stop())
  await startRelayService({ router }, { authorize: () => {} })
  const alice = await inbox(router, 'ch-alice', allowAnyIngress)
  const client = await inbox(router, 'tcp-client', allowAnyIngress)
  const other = await inbox(router, 'sc-other-e', allowAnyIngress)
  assert.ok((await ask(router, alice, 'ch-alice', ALICE, 'register', 'postgres')).ok)

  const tcpIngress: Ingress = { kind: 'tcp', connection: 'tcp-client', peer: '10.0.0.9:1' }
  await router.send({
    onward: [local('forward_to_postgres'), local('api')],
    return: [local('tcp-client'), local('sc-client-d')],
    payload: Buffer.from('m1'),
    local: { ingress: tcpIngress },
  })
  for (let i = 0; i < 100 && alice.length < 2; i++) await new Promise((r) => setImmediate(r))
  const delivered = alice[1] as Message
  assert.deepEqual(
    delivered.onward.map((a: Address) => a.value),
    ['ch-alice', 'ch-alice-rx', 'api'],
  )
  assert.deepEqual(
    delivered.return.map((a) => a.value),
    ['forward_to_postgres', 'tcp-client', 'sc-client-d'],
  )
  assert.equal(delivered.local.forwardedBy, 'forward_to_postgres')

  const answer = (onward: string[]) =>
    router.send({
      onward: [local('forward_to_postgres'), ...onward.map((v) => local(v))],
      return: [local('ch-alice'), local('sc-member-d')],
      payload: Buffer.from('answer'),
      local: { ingress: channelIngress('ch-alice', ALICE) },
    })
  await answer(['tcp-client', 'sc-client-d'])
  for (let i = 0; i < 100 && client.length < 1; i++) await new Promise((r) => setImmediate(r))
  assert.deepEqual(
    client[0]?.return.map((a) => a.value),
    ['forward_to_postgres', 'sc-member-d'],
  )
  // Anywhere else (another channel, a route that never came in): refused, nothing delivered.
  const refusedBefore = router.counters.get('relay.forward.answer_refused')
  await answer(['sc-other-e', 'sc-victim-d'])
  await answer(['tcp-client', 'somewhere-else'])
  for (let i = 0; i < 100 && router.counters.get('relay.forward.answer_refused') < refusedBefore + 2; i++)
    await new Promise((r) => setImmediate(r))
  assert.equal(router.counters.get('relay.forward.answer_refused'), refusedBefore + 2)
  assert.equal(other.length, 0)
  assert.equal(client.length, 1)
  // Relay ingress never enters a forward_to_ worker (no relay chains through the project).
  await assert.rejects(
    router.send({
      onward: [local('forward_to_postgres'), local('api')],
      return: [],
      payload: Buffer.from('x'),
      local: { ingress: { kind: 'relay', registration: 'x' } },
    }),
    (e: { code?: string }) => e.code === 'OCKAM_ERR_ROUTER_ACCESS_DENIED',
  )
})

test('relay ingress: allowAll refuses it, allowAnyIngress accepts it; the receiver admits only the listener and learned decryptors', async (t) => {
  const router = newRouter('member')
  t.after(() => router.stop())
  const relayMessage = (onward: string[]): Message => ({
    onward: onward.map((v) => local(v)),
    return: [],
    payload: Buffer.from('x'),
    local: { ingress: { kind: 'relay', registration: 'postgres' } },
  })
  assert.equal(allowAll.allows(relayMessage(['echo'])), false)
  assert.equal(allowAll.allows({ ...relayMessage(['echo']), local: { ingress: { kind: 'local' } } }), true)
  assert.equal(allowAnyIngress.allows(relayMessage(['api'])), true)
  const echo = await inbox(router, 'echo', allowAll)
  await assert.rejects(
    router.send(relayMessage(['echo'])),
    (e: { code?: string }) => e.code === 'OCKAM_ERR_ROUTER_ACCESS_DENIED',
  )

  const api = await inbox(router, 'api', allowAnyIngress)
  const decryptor = await inbox(router, 'sc-1234-d', allowAnyIngress)
  const toProject = await inbox(router, 'sc-project-e', allowAnyIngress)
  const receiver = await startRelayReceiver(router, { name: 'postgres', channel: 'sc-project-e' })
  const fromProject = (to: string): Message => ({
    onward: [receiver.address, local(to)],
    return: [local('sc-project-e'), local('forward_to_postgres'), local('tcp-client')],
    payload: Buffer.from('frame'),
    local: { ingress: channelIngress('sc-project-e', `I${'c'.repeat(64)}`) },
  })
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
  }
  await router.send(fromProject('api'))
  await router.send(fromProject('echo'))
  await router.send(fromProject('sc-1234-d'))
  await settle()
  assert.equal(api.length, 1)
  assert.deepEqual(api[0]?.local.ingress, { kind: 'relay', registration: 'postgres' })
  assert.deepEqual(
    api[0]?.return.map((a) => a.value),
    [receiver.address.value, 'sc-project-e', 'forward_to_postgres', 'tcp-client'],
  )
  assert.equal(echo.length, 0)
  assert.equal(decryptor.length, 0, 'not learned yet')
  assert.equal(router.counters.get('relay.receiver.refused'), 2)

  // The responder's frame goes back through the receiver into the project channel: that teaches it the decryptor.
  await router.send({
    onward: [receiver.address, local('sc-project-e'), local('forward_to_postgres'), local('tcp-client')],
    return: [local('sc-1234-d')],
    payload: Buffer.from('message 2'),
    local: { ingress: { kind: 'relay', registration: 'postgres' } },
  })
  // A relay-ingress message may leave only into the project channel.
  await router.send({
    onward: [receiver.address, local('api')],
    return: [local('sc-1234-d')],
    payload: Buffer.from('elsewhere'),
    local: { ingress: { kind: 'relay', registration: 'postgres' } },
  })
  await settle()
  assert.equal(toProject.length, 1)
  assert.equal(toProject[0]?.local.forwardedBy, receiver.address.value)
  assert.equal(api.length, 1)
  await router.send(fromProject('sc-1234-d'))
  await settle()
  assert.equal(decryptor.length, 1)
  // Another registration's relay ingress, or another channel's, does not even reach the receiver.
  await assert.rejects(
    router.send({ ...fromProject('api'), local: { ingress: channelIngress('sc-other-e', ALICE) } }),
    (e: { code?: string }) => e.code === 'OCKAM_ERR_ROUTER_ACCESS_DENIED',
  )
  await receiver.stop()
})
