/**
 * `credential verify|store` refuse what is out of date: expired and not-yet-valid credentials
 * (issued here in-process with a shifted clock, from the same state folder's vault), credentials
 * of an issuer that rotated since, an issuer history older than the one this folder holds
 * (rollback), and, for store, a credential bound to an older change of its subject.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { openStateStore } from '../../runtime/state/store.js'
import { credentialToText } from '../../runtime/trust/credentials/text.js'
import { createIdentitiesService } from '../../runtime/trust/identities/identities.js'
import { createVault } from '../../runtime/trust/vault/create-vault.js'
import { assertFails, createIdentities, type Home, scratchHome } from './trust-helpers.js'

/**
 * In `home`'s state folder, in this process: identities `authority` and `member` created three
 * hours ago, and credentials issued as if the clock were shifted by each of `shifts` (seconds).
 */
async function issueShifted(home: Home, shifts: readonly number[]): Promise<string[]> {
  const store = openStateStore({ dir: home.dir })
  const vault = await createVault({ mode: 'inline', stateDir: home.dir, env: {} })
  try {
    const clock = { shift: -3 * 3600 }
    const identities = createIdentitiesService({ db: store.db, vault, now: () => Date.now() + clock.shift * 1000 })
    await identities.create('authority')
    const member = await identities.create('member')
    const texts: string[] = []
    for (const shift of shifts) {
      clock.shift = shift
      const issued = await identities.issueCredential('authority', {
        subject: { identifier: member.identifier, latestChangeHash: member.identity.latestChangeHash },
        attributes: { role: 'analyst' },
        ttlSeconds: 3600,
      })
      texts.push(credentialToText(issued.presentation))
    }
    return texts
  } finally {
    await vault.close()
    store.close()
  }
}

describe('credential validity on the command line', { concurrency: true }, () => {
  it('expired and not-yet-valid credentials are refused with their reason code', async (t) => {
    const home = scratchHome(t)
    // Valid for an hour from two hours ago; from two hours from now; from 30 s from now.
    const [expired, future, slightlyAhead] = (await issueShifted(home, [-7200, 7200, 30])) as [string, string, string]
    assertFails(
      await home.run(['credential', 'verify', '--issuer', 'authority', expired]),
      'OCKAM_ERR_CREDENTIAL_EXPIRED',
    )
    assertFails(
      await home.run(['credential', 'verify', '--issuer', 'authority', future]),
      'OCKAM_ERR_CREDENTIAL_NOT_YET_VALID',
    )
    // Within the ±60 s skew it is still accepted.
    assert.match(await home.ok(['credential', 'verify', '--issuer', 'authority', slightlyAhead]), /role=analyst/)
  })

  it('after the issuer rotates its old credentials stop verifying; an older issuer history is a rollback', async (t) => {
    const home = scratchHome(t)
    const created = await createIdentities(home, ['authority', 'member'])
    const oldHistory = join(home.dir, '..', 'authority-old.identity')
    writeFileSync(oldHistory, created.authority?.exported as string)
    const before = await home.ok(['credential', 'issue', '--as', 'authority', '--for', 'member'])
    await home.ok(['identity', 'rotate', 'authority'])

    assertFails(
      await home.run(['credential', 'verify', '--issuer', 'authority', before]),
      'OCKAM_ERR_PURPOSE_KEY_STALE',
    )
    assertFails(await home.run(['credential', 'verify', '--issuer', oldHistory, before]), 'OCKAM_ERR_IDENTITY_ROLLBACK')
    const after = await home.ok(['credential', 'issue', '--as', 'authority', '--for', 'member', '--attribute', 'a=b'])
    assert.match(await home.ok(['credential', 'verify', '--issuer', 'authority', after]), /a=b/)
  })

  it('store refuses a credential bound to an older change of its subject', async (t) => {
    const home = scratchHome(t)
    await createIdentities(home, ['authority', 'member'])
    const credential = await home.ok(['credential', 'issue', '--as', 'authority', '--for', 'member'])
    await home.ok(['identity', 'rotate', 'member'])
    assertFails(
      await home.run(['credential', 'store', '--issuer', 'authority', credential]),
      'OCKAM_ERR_CREDENTIAL_SUBJECT_STALE',
    )
    assert.equal((await home.json<unknown[]>(['credential', 'list'])).length, 0)
  })
})
