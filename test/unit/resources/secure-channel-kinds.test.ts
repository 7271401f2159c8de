/** The secure-channel kinds' spec checks and the split of a route at its /secure segments. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import { parseMultiaddr } from '../../../runtime/multiaddr.js'
import { secureChannelKind } from '../../../runtime/resources/kinds/secure-channel.js'
import { secureChannelListenerKind } from '../../../runtime/resources/kinds/secure-channel-listener.js'
import { splitAtSecure } from '../../../runtime/resources/kinds/secure-channel-route.js'

const ID = `I${'ab'.repeat(32)}`

test('a route splits at each /secure: the legs to each listener, then the route inside the innermost channel', () => {
  const { legs, tail } = splitAtSecure(
    parseMultiaddr('/ip4/127.0.0.1/tcp/4000/secure/api/service/fwd/secure/api/service/echo'),
  )
  assert.deepEqual(
    legs.map((leg) => [leg.before.length, leg.listener]),
    [
      [1, 'api'],
      [1, 'api'],
    ],
  )
  assert.deepEqual(tail, [{ kind: 'service', address: 'echo' }])
  assert.deepEqual(splitAtSecure(parseMultiaddr('/service/echo')).legs, [])
})

test('secure-channel specs: valid ones are normalized, anything else is OCKAM_ERR_RESOURCE_INVALID', () => {
  const kind = secureChannelKind()
  assert.deepEqual(kind.validate({ to: '/ip4/127.0.0.1/tcp/1/secure/api', authorized: [ID, ID], address: 'to-n1' }), {
    to: '/ip4/127.0.0.1/tcp/1/secure/api',
    authorized: [ID],
    address: 'to-n1',
  })
  for (const bad of [
    null,
    [],
    { to: '/ip4/127.0.0.1/tcp/1/service/echo' },
    { to: '/secure/api', authorized: [] },
    { to: '/secure/api', authorized: ['I00'] },
    { to: '/secure/api', address: 'a/b' },
    { to: '/secure/api', extra: 1 },
    { to: 'x'.repeat(5000) },
  ]) {
    assert.throws(
      () => kind.validate(bad),
      (e) => isOckamError(e, 'OCKAM_ERR_RESOURCE_INVALID'),
      JSON.stringify(bad),
    )
  }
})

test('both kinds refuse arbitrary input with a typed error only', () => {
  const kinds = [secureChannelKind(), secureChannelListenerKind()]
  fc.assert(
    fc.property(fc.anything(), (value) => {
      for (const kind of kinds) {
        try {
          kind.validate(value)
        } catch (error) {
          assert.ok(isOckamError(error, 'OCKAM_ERR_RESOURCE_INVALID'), String(error))
        }
      }
    }),
    { numRuns: 300 },
  )
  assert.throws(
    () => secureChannelListenerKind().validate({ address: 'api' }),
    (e) => isOckamError(e, 'OCKAM_ERR_RESOURCE_INVALID'),
  )
})
