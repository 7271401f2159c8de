/**
 * The two local rules of secure-channel passthrough: the router delivers a frame marked sealed
 * that came from the network only to workers that accept one (channel and relay plumbing), and
 * a channel passes a sealed frame through only toward such plumbing, named as the relay and the
 * channels name their addresses.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowAll } from '../../../runtime/access-control.js'
import { local, tcp } from '../../../runtime/address.js'
import { isOckamError } from '../../../runtime/errors.js'
import type { Message } from '../../../runtime/message.js'
import { RELAY_FORWARD_PREFIX } from '../../../workers/relay/constants.js'
import { passesThroughTo } from '../../../workers/secure-channel/constants.js'
import { collector, message, TCP_INGRESS, testRouter, text } from '../runtime/router-fixtures.js'

const sealed = (m: Message): Message => ({ ...m, local: { ...m.local, sealed: true } })
const passedThrough = (m: Message): Message => ({ ...m, local: { ...m.local, sealed: true, passedThrough: true } })

test('a frame that arrived passed through reaches only a worker that accepts one; a sealed mark alone changes nothing', async () => {
  const { router, counters } = testRouter()
  const service = collector(2)
  const plumbing = collector(2)
  await router.startWorker([local('service')], service.worker, { incoming: allowAll })
  await router.startWorker([local('plumbing')], plumbing.worker, { incoming: { ...allowAll, acceptsSealed: true } })
  await assert.rejects(
    router.send(passedThrough(message([local('service')], { ingress: TCP_INGRESS, text: 'injected' }))),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTER_ACCESS_DENIED') && /passed through another channel/.test(e.message),
  )
  await router.send(passedThrough(message([local('plumbing')], { ingress: TCP_INGRESS, text: 'frame' })))
  await router.send(sealed(message([local('plumbing')], { text: 'own frame' })))
  await router.send(sealed(message([local('service')], { text: 'own frame to a local hop' })))
  await router.send(sealed(message([local('service')], { ingress: TCP_INGRESS, text: 'a responder frame' })))
  await Promise.all([service.done, plumbing.done])
  await router.stop()
  assert.deepEqual(service.messages.map(text), ['own frame to a local hop', 'a responder frame'])
  assert.deepEqual(plumbing.messages.map(text), ['frame', 'own frame'])
  assert.equal(counters.get('router.denied.OCKAM_ERR_ROUTER_ACCESS_DENIED'), 1)
})

test('passthrough goes only toward a relay forwarder, a relay receiver or a channel decryptor', () => {
  assert.equal(passesThroughTo(local(`${RELAY_FORWARD_PREFIX}postgres`)), true)
  assert.equal(passesThroughTo(local('relay-postgres-0a1b2c3d')), true)
  assert.equal(passesThroughTo(local('sc-0123456789abcdef-d')), true)
  assert.equal(passesThroughTo(local('sc-0123456789abcdef-e')), false, 'an encryptor is not where frames arrive')
  assert.equal(passesThroughTo(local('sc-0123456789abcdef-p')), false)
  assert.equal(passesThroughTo(local('api')), false, 'a listener takes handshakes, sealed by the outer channel')
  assert.equal(passesThroughTo(local('forward')), false, 'a generic forwarder gets sealed frames')
  assert.equal(passesThroughTo(local('echo')), false)
  assert.equal(passesThroughTo(tcp('127.0.0.1:4000')), false)
  assert.equal(passesThroughTo(undefined), false)
})
