/**
 * Redemption is one atomic UPDATE, also across processes: two processes, each with its own
 * connection to the project host's database file (and this process holding a third), race to
 * redeem one ticket. Exactly as many redemptions win as the ticket has uses.
 */
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { type TestContext, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Host, projectHost } from '../unit/authority/helpers.js'

const CHILD = fileURLToPath(new URL('../unit/authority/fixtures/redeem-child.js', import.meta.url))

interface Child {
  readonly process: ChildProcessWithoutNullStreams
  readonly lines: AsyncIterableIterator<string>
}

async function startChild(t: TestContext, host: Host, code: Uint8Array, enrollees: string[]): Promise<Child> {
  const child = spawn(process.execPath, [CHILD, host.stateDir, Buffer.from(code).toString('hex'), ...enrollees], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const first = await lines.next()
  assert.equal(first.value, 'ready', `child did not start: ${stderr}`)
  return { process: child, lines }
}

async function race(t: TestContext, usageCount: number): Promise<{ won: number; errors: string[]; host: Host }> {
  const host = await projectHost(t)
  // The children run on the real clock.
  host.clock.ms = Date.now()
  const { code, ticket } = host.authority.createTicket(host.admin.identifier, { usageCount })
  const identifiers = () => Array.from({ length: 5 }, () => `I${randomBytes(32).toString('hex')}`)
  const children = await Promise.all([
    startChild(t, host, code, identifiers()),
    startChild(t, host, code, identifiers()),
  ])
  // Both are connected and waiting: release them together.
  for (const child of children) child.process.stdin.write('go\n')
  let won = 0
  const errors: string[] = []
  for (const child of children) {
    const line = await child.lines.next()
    const result = JSON.parse(String(line.value)) as { won: number; errors: string[] }
    won += result.won
    errors.push(...result.errors)
    if (child.process.exitCode === null) await once(child.process, 'exit')
    assert.equal(child.process.exitCode, 0)
  }
  const after = host.authority.listTickets(host.admin.identifier).find((info) => info.id === ticket.id)
  assert.equal(after?.usesLeft, 0)
  return { won, errors, host }
}

test('two processes race ten redemptions of a one-use ticket: exactly one wins', async (t) => {
  const { won, errors, host } = await race(t, 1)
  assert.equal(won, 1)
  assert.equal(errors.length, 9)
  assert.ok(
    errors.every((code) => code === 'OCKAM_ERR_AUTHORITY_TICKET_USED'),
    errors.join(', '),
  )
  // The admin and the one winner.
  assert.equal(host.authority.listMembers(host.admin.identifier).length, 2)
})

test('two processes race ten redemptions of a three-use ticket: exactly three win', async (t) => {
  const { won, errors, host } = await race(t, 3)
  assert.equal(won, 3)
  assert.ok(
    errors.every((code) => code === 'OCKAM_ERR_AUTHORITY_TICKET_USED'),
    errors.join(', '),
  )
  assert.equal(host.authority.listMembers(host.admin.identifier).length, 4)
})
