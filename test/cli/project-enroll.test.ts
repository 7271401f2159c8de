/**
 * The project walkthrough (DESIGN §1) across three temporary state folders: a project host, a
 * member and a stranger. A ticket works once, enroll prints the project fingerprint and stores
 * the credential, a wrong --project-identity is refused before anything is sent.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, tempHome } from '../helpers/cli.js'
import { freePort } from '../helpers/node-cli.js'

const TICKET = /^ockam-ticket-v1:[A-Za-z0-9_-]+\n$/

test('project create, a one-use ticket, enroll with fingerprint and credential, wrong pin refused', async (t) => {
  const host = tempHome(t, 'ockam-project-host-')
  const member = tempHome(t, 'ockam-project-member-')
  const other = tempHome(t, 'ockam-project-other-')
  const port = await freePort()

  const created = await runCli(
    ['--output', 'json', 'project', 'create', 'demo', '--listen', `127.0.0.1:${port}`],
    host.env,
  )
  assert.equal(created.code, 0, created.stderr)
  const project = JSON.parse(created.stdout) as { authority: string; address: string }
  assert.equal(project.address, `127.0.0.1:${port}`)
  const admin = JSON.parse((await runCli(['--output', 'json', 'identity', 'show'], host.env)).stdout) as {
    identifier: string
  }
  assert.notEqual(project.authority, admin.identifier, 'the authority has its own identity')

  const again = await runCli(['project', 'create', 'demo2', '--listen', `127.0.0.1:${port}`], host.env)
  assert.notEqual(again.code, 0)
  assert.match(again.stderr, /OCKAM_ERR_AUTHORITY_PROJECT_EXISTS/)

  const ticket = await runCli(['project', 'ticket', '--attribute', 'team=bank'], host.env)
  assert.equal(ticket.code, 0, ticket.stderr)
  assert.match(ticket.stdout, TICKET, 'stdout is exactly the ticket')
  const text = ticket.stdout.trim()

  const pinnedWrong = await runCli(['enroll', text, '--project-identity', admin.identifier], other.env)
  assert.notEqual(pinnedWrong.code, 0)
  assert.match(pinnedWrong.stderr, /OCKAM_ERR_PROJECT_IDENTITY_MISMATCH/)

  const enrolled = await runCli(['enroll', text, '--project-identity', project.authority], member.env)
  assert.equal(enrolled.code, 0, enrolled.stderr)
  assert.match(enrolled.stdout, new RegExp(`fingerprint ${project.authority}`))

  const credentials = await runCli(['credential', 'list'], member.env)
  assert.equal(credentials.code, 0, credentials.stderr)
  assert.match(credentials.stdout, new RegExp(`${project.authority}.*team=bank`))

  const reused = await runCli(['enroll', text], other.env)
  assert.notEqual(reused.code, 0)
  assert.match(reused.stderr, /OCKAM_ERR_AUTHORITY_TICKET_USED/)

  const second = await runCli(['project', 'ticket'], host.env)
  const twice = await runCli(['enroll', second.stdout.trim()], member.env)
  assert.notEqual(twice.code, 0)
  assert.match(twice.stderr, /OCKAM_ERR_PROJECT_ALREADY_ENROLLED/)
})
