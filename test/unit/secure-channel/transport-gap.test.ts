/**
 * provesGap: an ordered receiver tells a genuine frame beyond the next nonce (a frame was lost:
 * close the channel) from a forged one (drop it), spending at most one REKEY and never for
 * frames beyond the next key interval.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NOISE_XX_AESGCM } from '../../../runtime/trust/noise/suite.js'
import { createTransportReceiver, createTransportSender } from '../../../workers/secure-channel/transport-cipher.js'
import { countingProvider, PROVIDERS, totalCalls } from './helpers.js'

function withNonce(frame: Uint8Array, nonce: bigint): Uint8Array {
  const out = frame.slice()
  new DataView(out.buffer).setBigUint64(0, nonce, false)
  return out
}

for (const provider of PROVIDERS) {
  test(`${provider.name}: genuine frames ahead prove a gap, forged ones do not, and nothing changes`, () => {
    const key = provider.randomBytes(32)
    const sender = createTransportSender({ provider, suite: NOISE_XX_AESGCM, key })
    const counted = countingProvider(provider)
    const receiver = createTransportReceiver({ provider: counted.provider, suite: NOISE_XX_AESGCM, key })
    const frames = Array.from({ length: 70 }, (_, n) => sender.seal(Uint8Array.of(n)))
    receiver.open(frames[0]!)
    const before = receiver.state()
    assert.equal(receiver.provesGap(frames[2]!), true, 'same interval')
    assert.equal(receiver.provesGap(frames[40]!), true, 'next interval: one REKEY')
    assert.equal(receiver.provesGap(frames[69]!), false, 'two intervals ahead: unprovable')
    assert.equal(receiver.provesGap(frames[0]!), false, 'not ahead')
    assert.equal(receiver.provesGap(frames[1]!), false, 'the next nonce is no gap')
    const forged = frames[2]!.slice()
    forged[forged.length - 1]! ^= 1
    assert.equal(receiver.provesGap(forged), false)
    assert.equal(receiver.provesGap(withNonce(frames[2]!, 3n)), false, 'a genuine body under another nonce')
    const calls = totalCalls(counted.counts)
    for (const nonce of [2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]) {
      assert.equal(receiver.provesGap(withNonce(frames[2]!, nonce)), false)
    }
    assert.equal(totalCalls(counted.counts), calls, 'far nonces cost no crypto')
    assert.deepEqual(receiver.state(), before)
    assert.deepEqual(receiver.open(frames[1]!), Uint8Array.of(1))
    const reordering = createTransportReceiver({ provider, suite: NOISE_XX_AESGCM, key, ordering: 'reordering' })
    assert.equal(reordering.provesGap(frames[5]!), false)
  })
}
