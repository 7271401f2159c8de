/**
 * Project tickets from the host's state folder (DESIGN §12): list and revoke over a channel to the
 * project node, a revoked ticket fails, the project node restores its services on restart, and a
 * taken port is refused before anything is written.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, tempHome } from '../helpers/cli.js'
import { holdPort, ok } from '../helpers/node-cli.js'

test('a taken port is refused with a clear error and no project is recorded', async (t) => {
  const host = tempHome(t, 'ockam-project-port-')
  const { server, port } = await holdPort()
  t.after(() => server.close())
  const refused = await runCli(['project', 'create', 'demo', '--listen', `127.0.0.1:${port}`], host.env)
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /OCKAM_ERR_PROJECT_PORT_IN_USE/)
  const none = await runCli(['project', 'member', 'list'], host.env)
  assert.match(none.stderr, /OCKAM_ERR_PROJECT_NONE/)
})

test('a revoked ticket fails; after a restart the project node issues and redeems tickets', async (t) => {
  const host = tempHome(t, 'ockam-project-admin-')
  const member = tempHome(t, 'ockam-project-plain-')
  const held = await holdPort()
  const port = held.port
  await new Promise((resolve) => held.server.close(resolve))
  await ok(['project', 'create', 'demo', '--listen', `127.0.0.1:${port}`], host.env)

  const revokedTicket = JSON.parse(await ok(['--output', 'json', 'project', 'ticket'], host.env)) as {
    ticket: string
    id: string
  }
  await ok(['project', 'ticket', 'revoke', revokedTicket.id], host.env)
  const tickets = JSON.parse(await ok(['--output', 'json', 'project', 'ticket', 'list'], host.env)) as Array<{
    id: string
    status: string
  }>
  assert.equal(tickets.find((x) => x.id === revokedTicket.id)?.status, 'revoked')
  const refused = await runCli(['enroll', revokedTicket.ticket], member.env)
  assert.match(refused.stderr, /OCKAM_ERR_AUTHORITY_TICKET_REVOKED/)

  // The project node restores the authority and its listener identity after a restart.
  await ok(['node', 'stop', 'demo'], host.env)
  await ok(['node', 'start', 'demo'], host.env)
  const ticket = (await ok(['project', 'ticket', '--relay', 'postgres'], host.env)).trim()
  const enrolled = JSON.parse(await ok(['--output', 'json', 'enroll', ticket], member.env)) as { member: string }

  assert.equal(enrolled.member.startsWith('I'), true)
})
