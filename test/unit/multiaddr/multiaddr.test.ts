import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { isOckamError } from '../../../runtime/errors.js'
import { formatMultiaddr, parseMultiaddr, parseRouteArgument, toRoute } from '../../../runtime/multiaddr.js'
import { formatRoute } from '../../../runtime/route.js'

test('CLI routes resolve to addresses', () => {
  assert.equal(formatRoute(parseRouteArgument('/ip4/127.0.0.1/tcp/4000/service/echo')), '[1#127.0.0.1:4000 => 0#echo]')
  assert.equal(formatRoute(parseRouteArgument('/ip6/::1/tcp/4000/worker/a')), '[1#[::1]:4000 => 0#a]')
  assert.equal(formatRoute(parseRouteArgument('/dnsaddr/localhost/tcp/1/service/x/')), '[1#localhost:1 => 0#x]')
  assert.equal(
    formatRoute(parseRouteArgument('/node/n1/service/echo', { resolveNode: (n) => (n === 'n1' ? '127.0.0.1:9' : '') })),
    '[1#127.0.0.1:9 => 0#echo]',
  )
})

test('secure and project segments parse but need what this layer cannot create', () => {
  const segments = parseMultiaddr('/project/demo/service/forward_to_postgres/secure/api/service/outlet')
  assert.deepEqual(
    segments.map((s) => s.kind),
    ['project', 'service', 'secure', 'service'],
  )
  assert.throws(
    () => toRoute(segments),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTE_UNRESOLVED'),
  )
  assert.throws(
    () => parseRouteArgument('/node/n1'),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTE_UNRESOLVED'),
  )
})

test('malformed multiaddrs are typed errors that say what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['ip4/1.2.3.4/tcp/1', /must start with/],
    ['/ip4/1.2.3.4', /followed by \/tcp/],
    ['/ip4/256.1.1.1/tcp/1', /not a valid ip4 host/],
    ['/ip4/1.2.3.4/tcp/70000', /not a TCP port/],
    ['/tcp/1', /must follow/],
    ['/service', /needs a value/],
    ['/bogus/x', /unknown protocol/],
    ['/', /empty/],
    [`/service/${'a'.repeat(300)}`, /too long/],
    [`${'/service/a'.repeat(40)}`, /more than 32 segments/],
    ['/service/a#b', /not a valid address/],
  ]
  for (const [text, why] of cases) {
    assert.throws(
      () => parseMultiaddr(text),
      (e) => isOckamError(e, 'OCKAM_ERR_MULTIADDR_INVALID') && why.test(e.message),
      text,
    )
  }
  assert.throws(
    () => parseRouteArgument(`${'/service/a'.repeat(17)}`),
    (e) => isOckamError(e, 'OCKAM_ERR_ROUTE_INVALID'),
  )
})

const segment = fc.oneof(
  fc
    .tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 }))
    .map(([host, port]) => ({ kind: 'tcp' as const, host, port, hostKind: 'ip4' as const })),
  fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/).map((name) => ({ kind: 'node' as const, name })),
  fc.stringMatching(/^[a-z0-9_-]{1,20}$/).map((address) => ({ kind: 'service' as const, address })),
  fc.stringMatching(/^[a-z0-9_-]{1,20}$/).map((address) => ({ kind: 'secure' as const, address })),
)

test('property: parse(format(segments)) = segments', () => {
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 10 }), (segments) => {
      assert.deepEqual(parseMultiaddr(formatMultiaddr(segments)), segments)
    }),
    { numRuns: 300 },
  )
})

test('property: any string yields segments or a typed error, never a crash', () => {
  const alphabet = fc.constantFrom(
    '/',
    'ip4',
    'ip6',
    'tcp',
    'service',
    'secure',
    'node',
    '1',
    '.',
    ':',
    'a',
    '#',
    ' ',
    '9',
  )
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.array(alphabet, { maxLength: 40 }).map((p) => p.join('')),
      ),
      (text) => {
        try {
          parseMultiaddr(text)
        } catch (error) {
          assert.ok(isOckamError(error, 'OCKAM_ERR_MULTIADDR_INVALID'), String(error))
        }
      },
    ),
    { numRuns: 2000 },
  )
})
