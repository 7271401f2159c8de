import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { evaluatePolicy } from '../../../runtime/trust/policy/evaluate.js'
import { createPolicyStore, MAX_RESOURCE_NAME_LENGTH } from '../../../runtime/trust/stored-policies.js'
import { scratchStore } from '../state/helpers.js'

const code = (expected: OckamErrorCode) => (error: unknown) => isOckamError(error, expected)

test('policies are stored in canonical form and evaluate as written', (t) => {
  const store = scratchStore(t)
  const policies = createPolicyStore(store.db, { now: () => 42 })
  const { policy, replaced } = policies.set({ kind: 'resource', name: 'db' }, 'role.analyst and not contractor')
  assert.equal(replaced, false)
  assert.equal(policy.expression, '(and (= subject.role "analyst") (not (= subject.contractor "true")))')
  const stored = policies.get({ kind: 'resource', name: 'db' })
  assert.ok(stored !== undefined)
  const decide = (attributes: Record<string, string>) =>
    evaluatePolicy(stored.policy, { subject: { identifier: `I${'0'.repeat(64)}`, attributes } }).allowed
  assert.deepEqual(
    [decide({}), decide({ role: 'analyst' }), decide({ role: 'analyst', contractor: 'true' })],
    [false, true, false],
  )
  assert.equal(policies.set({ kind: 'resource', name: 'db' }, 'true').replaced, true)
})

test('the resource policy wins over the resource type policy; without either there is none', (t) => {
  const store = scratchStore(t)
  const policies = createPolicyStore(store.db)
  assert.equal(policies.effective('db', 'tcp-outlet'), undefined)
  policies.set({ kind: 'resource-type', name: 'tcp-outlet' }, 'member')
  assert.equal(policies.effective('db', 'tcp-outlet')?.expression, '(= subject.member "true")')
  assert.equal(policies.effective('db', 'tcp-inlet'), undefined)
  policies.set({ kind: 'resource', name: 'db' }, 'admin')
  assert.equal(policies.effective('db', 'tcp-outlet')?.expression, '(= subject.admin "true")')
  assert.equal(policies.delete({ kind: 'resource', name: 'db' }), true)
  assert.equal(policies.effective('db', 'tcp-outlet')?.target.kind, 'resource-type')
  assert.deepEqual(
    policies.list().map((p) => `${p.target.kind}:${p.target.name}`),
    ['resource-type:tcp-outlet'],
  )
})

test('bad targets and bad texts change nothing; a parse error carries the position', (t) => {
  const store = scratchStore(t)
  const policies = createPolicyStore(store.db)
  for (const name of ['', '-x', 'a b', 'x'.repeat(MAX_RESOURCE_NAME_LENGTH + 1)]) {
    assert.throws(() => policies.set({ kind: 'resource', name }, 'true'), code('OCKAM_ERR_POLICY_TARGET_INVALID'))
  }
  assert.throws(
    () => policies.set({ kind: 'resource-type', name: 'tcp-outlets' as 'tcp-outlet' }, 'true'),
    code('OCKAM_ERR_POLICY_TARGET_INVALID'),
  )
  assert.throws(
    () => policies.set({ kind: 'node' as 'resource', name: 'x' }, 'true'),
    code('OCKAM_ERR_POLICY_TARGET_INVALID'),
  )
  assert.throws(
    () => policies.set({ kind: 'resource', name: 'db' }, 'role.analyst and'),
    (error: unknown) => code('OCKAM_ERR_POLICY_PARSE')(error) && isOckamError(error) && error.data?.column === 17,
  )
  assert.deepEqual(policies.list(), [])
})

test('a stored text that no longer parses is reported as a corrupt record', (t) => {
  const store = scratchStore(t)
  const policies = createPolicyStore(store.db)
  policies.set({ kind: 'resource', name: 'db' }, 'true')
  store.db.prepare("UPDATE policies SET expression = '(and'").run()
  assert.throws(() => policies.get({ kind: 'resource', name: 'db' }), code('OCKAM_ERR_STATE_RECORD_CORRUPT'))
})
