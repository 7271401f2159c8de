/**
 * Every public Noise_XX_25519_{AESGCM,ChaChaPoly}_SHA256 vector in ../shared/vectors/noise,
 * driven through the handshake and the transport frame cipher that channels use, byte for byte.
 * Message order follows the vector README: strict alternation starting with the initiator, which
 * continues after split() (responder sends with c2 first).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { CryptoProvider } from '../../../runtime/trust/crypto/provider.js'
import { CipherState } from '../../../runtime/trust/noise/cipher-state.js'
import { createXXHandshake, type NoiseHandshake } from '../../../runtime/trust/noise/handshake-xx.js'
import { noiseSuiteByName } from '../../../runtime/trust/noise/suite.js'
import { createTransportReceiver, createTransportSender } from '../../../workers/secure-channel/transport-cipher.js'
import { fromHex, PROVIDERS, toHex, VECTORS_DIR } from './helpers.js'

const SELECTED = ['Noise_XX_25519_AESGCM_SHA256', 'Noise_XX_25519_ChaChaPoly_SHA256']
const FILES = ['cacophony.json', 'snow.json', 'noise-c-basic.json', 'flynn-noise-XX-NN-25519-SHA256.json']

interface RawVector {
  protocol_name?: string
  name?: string
  init_prologue: string
  resp_prologue: string
  init_static: string
  resp_static: string
  init_ephemeral: string
  resp_ephemeral: string
  handshake_hash?: string
  messages: { payload: string; ciphertext: string }[]
}

interface Vector extends RawVector {
  source: string
  protocolName: string
}

function loadVectors(): Vector[] {
  const out: Vector[] = []
  for (const file of FILES) {
    const parsed = JSON.parse(readFileSync(join(VECTORS_DIR, file), 'utf8')) as { vectors: RawVector[] }
    parsed.vectors.forEach((raw, index) => {
      const protocolName = raw.protocol_name ?? raw.name ?? ''
      if (SELECTED.includes(protocolName)) out.push({ ...raw, protocolName, source: `${file}#${index}` })
    })
  }
  return out
}

const vectors = loadVectors()

test('exactly 14 XX vectors are selected: 7 AESGCM and 7 ChaChaPoly', () => {
  assert.equal(vectors.length, 14)
  assert.equal(vectors.filter((v) => v.protocolName === SELECTED[0]).length, 7)
  assert.equal(vectors.filter((v) => v.protocolName === SELECTED[1]).length, 7)
  for (const v of vectors) assert.ok(v.messages.length >= 5, `${v.source} has transport messages`)
})

function handshakes(provider: CryptoProvider, v: Vector): [NoiseHandshake, NoiseHandshake] {
  const suite = noiseSuiteByName(v.protocolName)
  const side = (role: 'initiator' | 'responder', statics: string, ephemeral: string, prologue: string) => {
    const secretKey = fromHex(statics)
    return createXXHandshake({
      provider,
      suite,
      role,
      staticKeyPair: { secretKey, publicKey: provider.x25519PublicKey(secretKey) },
      prologue: fromHex(prologue),
      ephemeralSecretKey: fromHex(ephemeral),
    })
  }
  return [
    side('initiator', v.init_static, v.init_ephemeral, v.init_prologue),
    side('responder', v.resp_static, v.resp_ephemeral, v.resp_prologue),
  ]
}

for (const provider of PROVIDERS) {
  describe(`Noise XX vectors (${provider.name} provider)`, () => {
    for (const v of vectors) {
      test(`${v.source} ${v.protocolName}`, () => {
        const suite = noiseSuiteByName(v.protocolName)
        const [initiator, responder] = handshakes(provider, v)

        v.messages.slice(0, 3).forEach((message, i) => {
          const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
          assert.equal(writer.nextAction(), 'write')
          assert.equal(reader.nextAction(), 'read')
          const written = writer.writeMessage(fromHex(message.payload))
          assert.equal(toHex(written), message.ciphertext, `handshake message ${i}`)
          assert.equal(toHex(reader.readMessage(written)), message.payload, `handshake payload ${i}`)
        })

        assert.equal(initiator.nextAction(), 'split')
        assert.equal(responder.nextAction(), 'split')
        const i = initiator.split()
        const r = responder.split()
        assert.equal(toHex(i.handshakeHash), toHex(r.handshakeHash))
        if (v.handshake_hash !== undefined) assert.equal(toHex(i.handshakeHash), v.handshake_hash)
        assert.equal(toHex(i.remoteStaticPublicKey), toHex(provider.x25519PublicKey(fromHex(v.resp_static))))
        assert.equal(toHex(r.remoteStaticPublicKey), toHex(provider.x25519PublicKey(fromHex(v.init_static))))

        // The channel's frame cipher: frame = 8-byte BE nonce ‖ Noise transport message.
        const initiatorOut = createTransportSender({ provider, suite, key: i.sendKey })
        const initiatorIn = createTransportReceiver({ provider, suite, key: i.receiveKey })
        const responderOut = createTransportSender({ provider, suite, key: r.sendKey })
        const responderIn = createTransportReceiver({ provider, suite, key: r.receiveKey })
        // The spec's own CipherStates from Split(), c1 (initiator → responder) and c2.
        const c1 = new CipherState(provider, suite, i.sendKey)
        const c2 = new CipherState(provider, suite, r.sendKey)

        const sent = { initiator: 0, responder: 0 }
        v.messages.slice(3).forEach((message, k) => {
          const fromResponder = k % 2 === 0
          const payload = fromHex(message.payload)
          const [sender, receiver, spec] = fromResponder
            ? [responderOut, initiatorIn, c2]
            : [initiatorOut, responderIn, c1]
          const nonce = fromResponder ? sent.responder++ : sent.initiator++
          const frame = sender.seal(payload)
          assert.equal(toHex(frame.subarray(0, 8)), nonce.toString(16).padStart(16, '0'), `transport nonce ${k}`)
          assert.equal(toHex(frame.subarray(8)), message.ciphertext, `transport message ${k}`)
          assert.equal(toHex(receiver.open(frame)), message.payload, `transport payload ${k}`)
          assert.equal(toHex(spec.encryptWithAd(new Uint8Array(0), payload)), message.ciphertext)
        })
        assert.equal(initiator.nextAction(), 'done')
      })
    }
  })
}
