/**
 * Managing a project from its host's state folder over a channel to the project node (DESIGN §12):
 * member list and delete, the audit log; a plain member and a stranger cannot reach the
 * member list.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli, tempHome } from '../helpers/cli.js'
import { holdPort, ok } from '../helpers/node-cli.js'

test('the admin lists and deletes members and reads the audit log; members and strangers cannot list members', async (t) => {
  const host = tempHome(t, 'ockam-project-admin-')
  const member = tempHome(t, 'ockam-project-plain-')
  const stranger = tempHome(t, 'ockam-project-stranger-')
  const held = await holdPort()
  const port = held.port
  await new Promise((resolve) => held.server.close(resolve))
  await ok(['project', 'create', 'demo', '--listen', `127.0.0.1:${port}`], host.env)

  const ticket = (await ok(['project', 'ticket', '--relay', 'postgres'], host.env)).trim()
  const enrolled = JSON.parse(await ok(['--output', 'json', 'enroll', ticket], member.env)) as { member: string }
  const members = JSON.parse(await ok(['--output', 'json', 'project', 'member', 'list'], host.env)) as Array<{
    identifier: string
    role: string
    attributes: Record<string, string>
  }>
  assert.deepEqual(members.find((m) => m.identifier === enrolled.member)?.attributes, { relay: 'postgres' })
  assert.equal(members.filter((m) => m.role === 'admin').length, 1)

  const denied = await runCli(['project', 'member', 'list'], member.env)
  assert.notEqual(denied.code, 0)
  assert.match(denied.stderr, /OCKAM_ERR_AUTHORITY_ACCESS_DENIED/)
  // A stranger who knows where the project is and whom to trust still is not a member.
  mkdirSync(stranger.home, { recursive: true, mode: 0o700 })
  copyFileSync(join(member.home, 'project.json'), join(stranger.home, 'project.json'))
  const strangerDenied = await runCli(['project', 'member', 'list'], stranger.env)
  assert.notEqual(strangerDenied.code, 0)
  assert.match(strangerDenied.stderr, /OCKAM_ERR_AUTHORITY_ACCESS_DENIED/)

  await ok(['project', 'member', 'delete', enrolled.member], host.env)
  const after = JSON.parse(await ok(['--output', 'json', 'project', 'member', 'list'], host.env)) as Array<{
    identifier: string
  }>
  assert.equal(
    after.some((m) => m.identifier === enrolled.member),
    false,
  )
  const audit = JSON.parse(await ok(['--output', 'json', 'project', 'audit'], host.env)) as Array<{ action: string }>
  assert.deepEqual(
    audit.map((e) => e.action),
    ['project.create', 'ticket.create', 'ticket.redeem', 'member.delete'],
  )
})
