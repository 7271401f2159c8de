/**
 * Regression: a read of the peer's attributes that comes after expiry but before the expiry timer
 * (a whole-second clock, a busy event loop) recomputed them and cleared the timer, so the owner
 * never heard of the expiry and open portals were never re-checked. The drop is reported either way.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_CLOCK_SKEW_SECONDS } from '../../../runtime/trust/constants.js'
import type { VerifiedCredential } from '../../../runtime/trust/credentials/types.js'
import { PeerCredentials } from '../../../workers/secure-channel/peer-credentials.js'

function credential(expires: number): VerifiedCredential {
  return {
    subject: 'Ipeer',
    subjectChangeHash: new Uint8Array(32),
    issuer: 'Iauthority',
    attributes: new Map([['role', 'client']]),
    created: expires - 900,
    expires,
  } as VerifiedCredential
}

/** A record read against `clock.now`, counting its expiry reports in `clock.expired`. */
function peerOn(clock: { now: number; expired: number }): PeerCredentials {
  return new PeerCredentials({
    channel: 'sc-1-e',
    identifier: 'Ipeer',
    now: () => clock.now,
    onExpired: () => clock.expired++,
  })
}

test('an expiry first seen by a read (before the timer) is still reported, once the read returns', async () => {
  const clock = { now: 1_000, expired: 0 }
  const peer = peerOn(clock)
  peer.set([credential(clock.now + 10)])
  assert.equal(peer.attributes.role, 'client')
  clock.now += 10 + DEFAULT_CLOCK_SKEW_SECONDS
  assert.equal(peer.attributes.role, undefined, 'the read sees the drop')
  assert.equal(clock.expired, 0, 'not from inside the getter')
  await Promise.resolve()
  assert.equal(clock.expired, 1)
  const ingress = peer.ingress
  assert.equal(ingress.kind === 'channel' && ingress.member, false)
  await Promise.resolve()
  assert.equal(clock.expired, 1, 'reported once')
  peer.dispose()
})

test('a disposed record reports nothing', async () => {
  const clock = { now: 1_000, expired: 0 }
  const peer = peerOn(clock)
  peer.set([credential(clock.now + 10)])
  clock.now += 10 + DEFAULT_CLOCK_SKEW_SECONDS
  void peer.attributes
  peer.dispose()
  await Promise.resolve()
  assert.equal(clock.expired, 0)
})
