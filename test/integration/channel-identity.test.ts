/**
 * Named identities of a state folder as secure-channel identities: the default one is made on
 * first use, the stored secure-channel key and attestation are reused, and two state folders
 * open a channel with them and exchange a message with echo.
 */
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { local, tcp } from '../../runtime/address.js'
import { isOckamError } from '../../runtime/errors.js'
import { startApiListener } from '../../runtime/resources/kinds/secure-channel-listener.js'
import { openStateStore } from '../../runtime/state/store.js'
import { namedChannelIdentity, stateFolderIdentifiers } from '../../runtime/trust/channel-identity.js'
import { createIdentitiesService, type IdentitiesService } from '../../runtime/trust/identities/identities.js'
import { createVault } from '../../runtime/trust/vault/create-vault.js'
import type { Vault } from '../../runtime/trust/vault/types.js'
import {
  createSecureChannel,
  type SecureChannelIdentity,
  startSecureChannelListener,
  trustIdentifiers,
} from '../../workers/secure-channel/index.js'
import { startTestNode } from '../helpers/testnet.js'
import { scratchStateDir } from '../unit/vault/helpers.js'

async function stateFolder(t: TestContext): Promise<{ identities: IdentitiesService; vault: Vault }> {
  const dir = scratchStateDir(t)
  const store = openStateStore({ dir })
  const vault = await createVault({ mode: 'inline', stateDir: dir, env: {} })
  t.after(async () => {
    await vault.close()
    store.close()
  })
  return { identities: createIdentitiesService({ db: store.db, vault }), vault }
}

test('the default identity is created on first use and its secure-channel key is reused', async (t) => {
  const { identities, vault } = await stateFolder(t)
  assert.equal(identities.list().length, 0)
  const first = await namedChannelIdentity({ identities, vault })
  assert.equal(first.name, 'default')
  assert.equal(identities.getDefault().identifier, first.identity.identifier)
  const again = await namedChannelIdentity({ identities, vault })
  assert.equal(again.staticKeyHandle, first.staticKeyHandle)
  assert.deepEqual(again.staticKeyAttestation, first.staticKeyAttestation)
  assert.notEqual(first.staticKeyHandle, first.identityKeyHandle)
  assert.deepEqual(stateFolderIdentifiers(identities), [first.identity.identifier])
})

test('a named identity is used by name; an unknown name is refused', async (t) => {
  const { identities, vault } = await stateFolder(t)
  await identities.create('default')
  const other = await identities.create('other')
  const material = await namedChannelIdentity({ identities, vault, name: 'other' })
  assert.equal(material.identity.identifier, other.identifier)
  await assert.rejects(namedChannelIdentity({ identities, vault, name: 'nobody' }), (error) =>
    isOckamError(error, 'OCKAM_ERR_IDENTITY_NOT_FOUND'),
  )
})

test('two state folders open a channel with their named identities and reach echo', async (t) => {
  const alice = await stateFolder(t)
  const bob = await stateFolder(t)
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const aliceMaterial: SecureChannelIdentity = await namedChannelIdentity(alice)
  const bobMaterial: SecureChannelIdentity = await namedChannelIdentity(bob)
  await startSecureChannelListener(b.node, {
    identity: bobMaterial,
    trust: trustIdentifiers(...stateFolderIdentifiers(alice.identities)),
  })
  const channel = await createSecureChannel(a.node, [tcp(b.address), local('api')], {
    identity: aliceMaterial,
    trust: trustIdentifiers(bobMaterial.identity.identifier),
    timeoutMs: 5000,
  })
  t.after(() => channel.close())
  assert.equal(channel.peerIdentifier, bobMaterial.identity.identifier)
  const reply = await a.node.context.request([channel.address, local('echo')], new TextEncoder().encode('hi'), {
    timeoutMs: 5000,
  })
  assert.equal(new TextDecoder().decode(reply.payload), 'hi')
})

test('stopping a node closes the channels of its api listener first: the peer is told, not left with a dead channel', async (t) => {
  const dir = scratchStateDir(t)
  const store = openStateStore({ dir })
  t.after(() => store.close())
  const client = await stateFolder(t)
  const a = await startTestNode(t, 'a', { listen: [] })
  const b = await startTestNode(t, 'b')
  const api = await startApiListener({ node: b.node, store }, { authorized: [] }).catch(() => undefined)
  assert.equal(api, undefined, 'an empty --authorized list is refused')
  const clientMaterial = await namedChannelIdentity(client)
  const listener = await startApiListener({ node: b.node, store }, { authorized: [clientMaterial.identity.identifier] })
  assert.deepEqual(listener.admits, [clientMaterial.identity.identifier])
  const channel = await createSecureChannel(a.node, [tcp(b.address), local('api')], {
    identity: clientMaterial,
    trust: trustIdentifiers(listener.identifier),
    timeoutMs: 5000,
  })
  assert.equal(listener.open, 1)
  await b.node.stop()
  const closed = await channel.closed
  assert.equal(closed.by, 'peer')
})
