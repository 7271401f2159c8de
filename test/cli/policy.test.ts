/** `policy create|show|list|delete` end to end, in a temporary OCKAM_RUNTIME_HOME. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertFails, scratchHome } from './trust-helpers.js'

describe('policy commands', { concurrency: true }, () => {
  it('create stores the canonical form per resource and per resource type; show, list, delete', async (t) => {
    const home = scratchHome(t)
    assert.equal(
      await home.ok(['policy', 'create', '--resource', 'db', '--expression', 'role.analyst and not contractor']),
      '(and (= subject.role "analyst") (not (= subject.contractor "true")))',
    )
    const typed = await home.json(['policy', 'create', '--resource-type', 'tcp-outlet', '--expression', 'member'])
    assert.deepEqual(
      [typed.resourceType, typed.expression, typed.replaced],
      ['tcp-outlet', '(= subject.member "true")', false],
    )
    const replaced = await home.json(['policy', 'create', '--resource', 'db', '--expression', '(= subject.role "x")'])
    assert.equal(replaced.replaced, true)
    assert.equal(await home.ok(['policy', 'show', '--resource', 'db']), '(= subject.role "x")')
    assert.deepEqual((await home.ok(['policy', 'list'])).split('\n'), [
      'resource       db          (= subject.role "x")',
      'resource-type  tcp-outlet  (= subject.member "true")',
    ])
    assert.equal(await home.ok(['policy', 'delete', '--resource', 'db']), 'deleted the policy of resource db')
    assertFails(await home.run(['policy', 'show', '--resource', 'db']), 'OCKAM_ERR_POLICY_NOT_FOUND')
    assertFails(await home.run(['policy', 'delete', '--resource', 'db']), 'OCKAM_ERR_POLICY_NOT_FOUND')
    const listed = await home.json<Array<Record<string, string>>>(['policy', 'list'])
    assert.deepEqual(
      listed.map((row) => [row.resourceType, row.expression]),
      [['tcp-outlet', '(= subject.member "true")']],
    )
  })

  it('parse errors give the position and what was expected; bad targets and usage are refused; nothing is stored', async (t) => {
    const home = scratchHome(t)
    const parse = assertFails(
      await home.run(['policy', 'create', '--resource', 'db', '--expression', '(and (= subject.role "x") (membr? y']),
      'OCKAM_ERR_POLICY_PARSE',
    )
    assert.match(parse, /expected an operator \(and, or, not, =, !=, <, >, member\?, exists\?\) at 1:28, found "m"/)
    const json = await home.run(['--output', 'json', 'policy', 'create', '--resource', 'db', '--expression', 'a and'])
    assert.equal(json.code, 1)
    const { error } = JSON.parse(json.stderr) as { error: { code: string; data: Record<string, unknown> } }
    assert.deepEqual([error.code, error.data.line, error.data.column], ['OCKAM_ERR_POLICY_PARSE', 1, 6])
    assert.equal(typeof error.data.expected, 'string')
    assertFails(
      await home.run(['policy', 'create', '--resource-type', 'tcp-outlets', '--expression', 'a']),
      'OCKAM_ERR_POLICY_TARGET_INVALID',
    )
    assertFails(
      await home.run(['policy', 'create', '--resource', '-x', '--expression', 'a']),
      'OCKAM_ERR_POLICY_TARGET_INVALID',
    )
    assertFails(
      await home.run(['policy', 'create', '--resource', 'db', '--resource-type', 'relay', '--expression', 'a']),
      'OCKAM_ERR_CLI_USAGE',
      2,
    )
    const empty = await home.run(['policy', 'list'])
    assert.deepEqual([empty.code, empty.stdout], [0, ''])
  })
})
