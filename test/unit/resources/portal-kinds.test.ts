/**
 * The specs of the walkthrough's resource kinds, checked before anything starts: bare ports,
 * relay names and routes for `tcp-inlet --to`, and the routes refused because they would carry a
 * portal through a relay without an end-to-end channel (plaintext at the project, DESIGN §12).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isOckamError } from '../../../runtime/errors.js'
import { relayKind } from '../../../runtime/resources/kinds/relay.js'
import { tcpInletKind } from '../../../runtime/resources/kinds/tcp-inlet.js'
import { tcpOutletKind } from '../../../runtime/resources/kinds/tcp-outlet.js'

const invalid = (error: unknown) => isOckamError(error, 'OCKAM_ERR_RESOURCE_INVALID')

test('tcp-inlet: bare ports, relay names and routes to an outlet', () => {
  const kind = tcpInletKind()
  assert.deepEqual(kind.validate({ from: '15432', to: 'postgres' }), { from: '127.0.0.1:15432', to: 'postgres' })
  assert.equal(kind.validate({ from: '127.0.0.1:0', to: 'postgres:a' }).to, 'postgres:a')
  const route = '/project/demo/service/forward_to_postgres/secure/api/service/outlet'
  assert.equal(kind.validate({ from: '1', to: route }).to, route)
  assert.equal(
    kind.validate({ from: '1', to: '/node/n1/secure/api/service/outlet' }).to,
    '/node/n1/secure/api/service/outlet',
  )
})

test('tcp-inlet: a relay without a secure channel after it, and other bad specs, are refused', () => {
  const kind = tcpInletKind()
  for (const to of [
    '/project/demo/service/forward_to_postgres/service/outlet',
    '/ip4/127.0.0.1/tcp/4000/secure/api/service/forward_to_postgres/service/outlet',
    'Postgres',
    '/ip4/127.0.0.1/tcp/4000/secure/api',
    '',
  ]) {
    assert.throws(() => kind.validate({ from: '15432', to }), invalid, to)
  }
  assert.throws(() => kind.validate({ from: 'nope', to: 'postgres' }), invalid)
  assert.throws(() => kind.validate({ from: '15432', to: 'postgres', extra: 1 }), invalid)
  assert.throws(() => kind.validate({ from: '15432', to: 'postgres', allow: '(= subject.role' }), invalid)
})

test('tcp-outlet and relay: ports, service addresses and relay names', () => {
  assert.deepEqual(tcpOutletKind().validate({ to: '5432' }), { to: '127.0.0.1:5432', from: 'outlet' })
  assert.throws(() => tcpOutletKind().validate({ to: '127.0.0.1:0' }), invalid)
  assert.throws(() => tcpOutletKind().validate({ to: '5432', from: 'no/slash' }), invalid)
  assert.deepEqual(relayKind().validate({ name: 'postgres' }), { name: 'postgres' })
  for (const name of ['Postgres', 'a'.repeat(64), '', 'a b'])
    assert.throws(() => relayKind().validate({ name }), invalid)
})
