import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createPolicyRepository } from '../../../runtime/state/policy-repository.js'
import { constraintKind } from '../../../runtime/state/sqlite.js'
import { scratchStore } from './helpers.js'

test('policies: one per resource and per resource type; put replaces (keeping created), list orders, delete', (t) => {
  const store = scratchStore(t)
  const repo = createPolicyRepository(store.db)
  const first = repo.put('resource', 'db', '(= subject.a "1")', 100)
  assert.equal(first.replaced, false)
  assert.deepEqual(first.row, {
    kind: 'resource',
    target: 'db',
    expression: '(= subject.a "1")',
    createdAt: 100,
    updatedAt: 100,
  })
  const second = repo.put('resource', 'db', '(= subject.a "2")', 200)
  assert.equal(second.replaced, true)
  assert.deepEqual([second.row.createdAt, second.row.updatedAt, second.row.expression], [100, 200, '(= subject.a "2")'])
  repo.put('resource-type', 'tcp-outlet', 'true', 300)
  repo.put('resource', 'api', 'false', 400)
  // The same name as a resource and as a type are different targets.
  repo.put('resource-type', 'db', 'false', 500)
  assert.deepEqual(
    repo.list().map((row) => `${row.kind}:${row.target}`),
    ['resource:api', 'resource:db', 'resource-type:db', 'resource-type:tcp-outlet'],
  )
  assert.equal(repo.delete('resource', 'db'), true)
  assert.equal(repo.delete('resource', 'db'), false)
  assert.equal(repo.get('resource', 'db'), undefined)
  assert.equal(repo.get('resource-type', 'db')?.expression, 'false')
})

test('the policies table refuses an unknown target kind and empty texts', (t) => {
  const store = scratchStore(t)
  const repo = createPolicyRepository(store.db)
  for (const [kind, target, expression] of [
    ['node', 'x', 'true'],
    ['resource', '', 'true'],
    ['resource', 'x', ''],
  ] as const) {
    assert.throws(
      () => repo.put(kind as 'resource', target, expression, 1),
      (error: unknown) => constraintKind(error) === 'check',
      `${kind}/${target}/${expression}`,
    )
  }
  assert.deepEqual(repo.list(), [])
})
