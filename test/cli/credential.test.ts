/**
 * `credential issue|verify|store|list` end to end across two state folders: an authority that
 * issues, and a member that holds its credential and verifies it with the authority's exported
 * identity (the member's folder does not hold the authority).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CLI } from '../helpers/cli.js'
import { assertFails, createIdentities, scratchHome } from './trust-helpers.js'

interface CredentialJson {
  credential: string
  subject: string
  issuer: string
  attributes: Record<string, string>
  created: string
  expires: string
}

/** Runs the CLI with `input` on standard input. */
async function runWithStdin(args: string[], env: NodeJS.ProcessEnv, input: string) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk
  })
  child.stdin.end(input)
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, stdout, stderr }
}

describe('credentials between two state folders', { concurrency: true }, () => {
  it('issue for an exported member, verify with the exported authority (argument, file, stdin), store and list', async (t) => {
    const authority = scratchHome(t)
    const member = scratchHome(t)
    const [a, m] = await Promise.all([
      createIdentities(authority, ['authority']),
      createIdentities(member, ['default']),
    ])
    const authorityId = a.authority?.identifier as string
    const memberId = m.default?.identifier as string
    const authorityFile = join(authority.dir, '..', 'authority.identity')
    writeFileSync(authorityFile, `${a.authority?.exported}\n`)
    const memberExported = m.default?.exported as string

    const issued = await authority.json<CredentialJson>([
      'credential',
      'issue',
      '--as',
      'authority',
      '--for',
      memberExported,
      '--attribute',
      'role=analyst',
      '--attribute',
      'note=a=b',
      '--ttl',
      '15m',
    ])
    assert.match(issued.credential, /^ockam-credential-v1:[A-Za-z0-9_-]+$/)
    assert.deepEqual([issued.subject, issued.issuer], [memberId, authorityId])
    assert.deepEqual(issued.attributes, { note: 'a=b', role: 'analyst' }, 'split at the first =')
    assert.equal(Date.parse(issued.expires) - Date.parse(issued.created), 15 * 60 * 1000)

    const shown = await member.ok(['credential', 'verify', '--issuer', authorityFile, issued.credential])
    assert.deepEqual(shown.split('\n'), [
      `subject: ${memberId}`,
      `issuer: ${authorityId}`,
      `created: ${issued.created.replace(/\.\d+Z$/, '.000Z')}`,
      `expires: ${issued.expires.replace(/\.\d+Z$/, '.000Z')}`,
      'attributes:',
      '  note=a=b',
      '  role=analyst',
    ])
    const credentialFile = join(member.dir, '..', 'member.credential')
    writeFileSync(credentialFile, `${issued.credential}\n`)
    const fromFile = await member.json<CredentialJson & { valid: boolean }>([
      'credential',
      'verify',
      '--issuer',
      authorityFile,
      credentialFile,
    ])
    assert.deepEqual([fromFile.valid, fromFile.attributes.role], [true, 'analyst'])
    const fromStdin = await runWithStdin(
      ['credential', 'verify', '--issuer', authorityFile, '-'],
      { OCKAM_RUNTIME_HOME: member.dir },
      issued.credential,
    )
    assert.equal(fromStdin.code, 0, fromStdin.stderr)
    assert.match(fromStdin.stdout, /role=analyst/)

    // The authority's folder verifies by identifier or by name: it holds the history itself.
    assert.match(
      await authority.ok(['credential', 'verify', '--issuer', authorityId, issued.credential]),
      /role=analyst/,
    )

    // The member cannot: it knows only the identifier, not the history behind it.
    assertFails(
      await member.run(['credential', 'verify', '--issuer', authorityId, issued.credential]),
      'OCKAM_ERR_IDENTITY_HISTORY_UNAVAILABLE',
    )

    assert.match(
      await member.ok(['credential', 'store', '--issuer', authorityFile, credentialFile]),
      new RegExp(`stored a credential for default from ${authorityId}`),
    )
    const held = await member.json<Array<CredentialJson & { holder: string; expired: boolean }>>(['credential', 'list'])
    assert.deepEqual(
      held.map((row) => [row.holder, row.issuer, row.expired, row.attributes.role, row.credential]),
      [['default', authorityId, false, 'analyst', issued.credential]],
    )
  })

  it('refusals: untrusted issuer, tampered credential, wrong folder for store, bad options', async (t) => {
    const home = scratchHome(t)
    const created = await createIdentities(home, ['authority', 'other', 'member'])
    const subject = created.member?.identifier as string
    const credential = await home.ok([
      'credential',
      'issue',
      '--as',
      'authority',
      '--for',
      'member',
      '--attribute',
      'x=1',
    ])

    assertFails(
      await home.run(['credential', 'verify', '--issuer', 'other', credential]),
      'OCKAM_ERR_CREDENTIAL_UNTRUSTED_ISSUER',
    )
    // One character of the signature's base64 changed: still well-formed text, but forged.
    const at = credential.length - 10
    const forged = credential.slice(0, at) + (credential[at] === 'A' ? 'B' : 'A') + credential.slice(at + 1)
    // (The text ends with the issuer's attestation of its credential key, which is signed too.)
    const refused = await home.run(['credential', 'verify', '--issuer', 'authority', forged])
    assertFails(refused, 'OCKAM_ERR_PURPOSE_KEY_BAD_SIGNATURE')
    assertFails(
      await home.run(['credential', 'verify', '--issuer', 'authority', 'ockam-credential-v1:@@']),
      'OCKAM_ERR_CREDENTIAL_TEXT_INVALID',
    )
    assertFails(
      await home.run(['credential', 'verify', '--issuer', 'nobody', credential]),
      'OCKAM_ERR_IDENTITY_NOT_FOUND',
    )
    assertFails(
      await home.run(['credential', 'issue', '--for', subject, '--ttl', '1.5h']),
      'OCKAM_ERR_DURATION_INVALID',
    )
    assertFails(
      await home.run(['credential', 'issue', '--for', subject, '--attribute', 'novalue']),
      'OCKAM_ERR_CLI_USAGE',
      2,
    )
    assertFails(
      await home.run(['credential', 'issue', '--for', subject, '--ttl', '366d']),
      'OCKAM_ERR_DURATION_INVALID',
    )
  })
})
