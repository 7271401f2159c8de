/**
 * The resource registry with a fake kind (no sockets): create records only what started,
 * restore brings back what was recorded and pins resolved specs, a failed restore is reported
 * and keeps the record, delete forgets; the config plan keeps, creates, updates and removes.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { createNodeRepository } from '../../../runtime/daemon/node-repository.js'
import { applyPlan, planConfig } from '../../../runtime/daemon/reconcile.js'
import { OckamError } from '../../../runtime/errors.js'
import { silentLogger } from '../../../runtime/log.js'
import type { OckamNode } from '../../../runtime/node.js'
import {
  createResourceRepository,
  type ResourceKind,
  ResourceManager,
  tcpListenerKind,
} from '../../../runtime/resources/index.js'
import { openStateStore, type StateStore } from '../../../runtime/state/store.js'

interface FakeSpec {
  readonly value: number
}

/** A kind whose "start" resolves value 0 to 42 and fails for negative values; it counts live handles. */
function fakeKind(live: Set<string>): ResourceKind<FakeSpec> {
  return {
    kind: 'fake',
    restoreOrder: 1,
    validate(spec) {
      const value = (spec as { value?: unknown } | null)?.value
      if (typeof value !== 'number') throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', 'value must be a number')
      return { value }
    },
    defaultName: (spec) => `fake-${spec.value}`,
    satisfies: (desired, recorded) => desired.value === 0 || desired.value === recorded.value,
    async start(_host, spec) {
      if (spec.value < 0) throw new OckamError('OCKAM_ERR_TCP_LISTEN_FAILED', 'negative')
      const resolved = { value: spec.value === 0 ? 42 : spec.value }
      const id = `${resolved.value}:${Math.random()}`
      live.add(id)
      return {
        spec: resolved,
        summary: () => ({ value: resolved.value }),
        counters: () => ({ hits: 1 }),
        stop: async () => {
          live.delete(id)
        },
      }
    },
  }
}

function store(t: TestContext): StateStore {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-registry-'))
  const opened = openStateStore({ dir: join(dir, 'home') })
  t.after(() => {
    opened.close()
    rmSync(dir, { recursive: true, force: true })
  })
  createNodeRepository(opened.db).insert('n1', {})
  return opened
}

function manager(s: StateStore, live: Set<string>): ResourceManager {
  return new ResourceManager({
    nodeName: 'n1',
    host: { node: {} as OckamNode, log: silentLogger, store: s },
    kinds: [fakeKind(live)],
    repository: createResourceRepository(s.db),
  })
}

test('create records the resolved spec; a failed start records nothing; names are unique', async (t) => {
  const s = store(t)
  const live = new Set<string>()
  const m = manager(s, live)
  const created = await m.create('fake', { value: 0 })
  assert.equal(created.name, 'fake-42')
  assert.deepEqual(created.spec, { value: 42 })
  assert.deepEqual(createResourceRepository(s.db).get('n1', 'fake', 'fake-42')?.spec, { value: 42 })
  await assert.rejects(m.create('fake', { value: -1 }), { code: 'OCKAM_ERR_TCP_LISTEN_FAILED' })
  await assert.rejects(m.create('fake', { value: 'x' }), { code: 'OCKAM_ERR_RESOURCE_INVALID' })
  await assert.rejects(m.create('nope', {}), { code: 'OCKAM_ERR_RESOURCE_UNKNOWN_KIND' })
  await assert.rejects(m.create('fake', { value: 42 }), { code: 'OCKAM_ERR_RESOURCE_ALREADY_EXISTS' })
  assert.equal(live.size, 1, 'the duplicate was stopped again')
  await assert.rejects(m.create('fake', { value: 1 }, 'bad name!'), { code: 'OCKAM_ERR_RESOURCE_INVALID' })
  assert.equal(createResourceRepository(s.db).list('n1').length, 1)
  await m.delete('fake', 'fake-42')
  assert.equal(live.size, 0)
  await assert.rejects(m.delete('fake', 'fake-42'), { code: 'OCKAM_ERR_RESOURCE_NOT_FOUND' })
})

test('restore starts what is recorded, pins unresolved specs, reports failures and keeps them', async (t) => {
  const s = store(t)
  const repo = createResourceRepository(s.db)
  repo.insert('n1', 'fake', 'a', { value: 0 })
  repo.insert('n1', 'fake', 'b', { value: -5 })
  repo.insert('n1', 'gone-kind', 'c', {})
  const live = new Set<string>()
  const m = manager(s, live)
  const restored = await m.restore()
  assert.deepEqual(
    restored.map((r) => [r.name, r.state]),
    [
      ['a', 'running'],
      ['b', 'failed'],
    ],
  )
  assert.equal(restored[1]?.error?.code, 'OCKAM_ERR_TCP_LISTEN_FAILED')
  assert.deepEqual(repo.get('n1', 'fake', 'a')?.spec, { value: 42 }, 'port-0-like specs are pinned at restore')
  assert.ok(repo.get('n1', 'fake', 'b') !== undefined, 'a failed resource stays recorded')
  await m.delete('fake', 'b')
  assert.equal(repo.get('n1', 'fake', 'b'), undefined)
  await m.stopAll()
  assert.equal(live.size, 0)
  assert.equal(repo.list('n1').length, 2, 'stopping keeps the records')
  await assert.rejects(m.create('fake', { value: 3 }), { code: 'OCKAM_ERR_STOPPED' })
})

test('config plan: create, keep (port 0 satisfied by any port), update, remove; undeclared nodes removed', (t) => {
  const s = store(t)
  const kinds = [tcpListenerKind()]
  const repo = createResourceRepository(s.db)
  createNodeRepository(s.db).updateSettings('n1', { managedBy: '/c.ts' })
  createNodeRepository(s.db).insert('old', { managedBy: '/c.ts' })
  createNodeRepository(s.db).insert('mine', {})
  repo.insert('n1', 'tcp-listener', 'listen', { address: '127.0.0.1:4567' })
  repo.insert('n1', 'tcp-listener', 'moved', { address: '127.0.0.1:1000' })
  repo.insert('n1', 'tcp-listener', 'stale', { address: '127.0.0.1:1001' })
  const desired = [
    {
      name: 'n1',
      settings: { managedBy: '/c.ts' },
      resources: [
        { kind: 'tcp-listener', name: 'listen', spec: { address: '127.0.0.1:0' } },
        { kind: 'tcp-listener', name: 'moved', spec: { address: '127.0.0.1:2000' } },
        { kind: 'tcp-listener', name: 'new', spec: { address: '127.0.0.1:0' } },
      ],
    },
    { name: 'fresh', settings: { managedBy: '/c.ts' }, resources: [] },
  ]
  const options = { managedBy: '/c.ts', kinds, removeUndeclaredNodes: true }
  const plan = planConfig(s.db, desired, options)
  assert.deepEqual(
    plan.nodes[0]?.resources.map((r) => `${r.action} ${r.name}`),
    ['keep listen', 'update moved', 'create new', 'remove stale'],
  )
  assert.equal(plan.nodes[1]?.action, 'create')
  assert.deepEqual(plan.removeNodes, ['old'], 'only nodes this config created')
  assert.deepEqual(planConfig(s.db, desired, { ...options, removeUndeclaredNodes: false }).removeNodes, [])
  applyPlan(s.db, plan, desired)
  assert.deepEqual(
    repo.list('n1').map((r) => [r.name, r.spec]),
    [
      ['listen', { address: '127.0.0.1:4567' }],
      ['moved', { address: '127.0.0.1:2000' }],
      ['new', { address: '127.0.0.1:0' }],
    ],
  )
  assert.deepEqual(
    createNodeRepository(s.db)
      .list()
      .map((n) => n.name)
      .sort(),
    ['fresh', 'mine', 'n1'],
  )
  // A second plan against the result changes nothing.
  const again = planConfig(s.db, desired, options)
  assert.ok(again.nodes.every((n) => n.resources.every((r) => r.action === 'keep')))
  assert.deepEqual(again.removeNodes, [])
})

test('tcp-listener specs are validated exactly', () => {
  const kind = tcpListenerKind()
  assert.deepEqual(kind.validate({ address: '4000' }), { address: '127.0.0.1:4000' })
  assert.deepEqual(kind.validate({ address: '[::1]:0' }), { address: '[::1]:0' })
  for (const bad of [
    null,
    [],
    {},
    { address: 1 },
    { address: 'x' },
    { address: '1.2.3.4:70000' },
    { address: 'a:1', more: 1 },
  ]) {
    assert.throws(() => kind.validate(bad), { code: 'OCKAM_ERR_RESOURCE_INVALID' }, JSON.stringify(bad))
  }
  assert.equal(kind.satisfies({ address: '127.0.0.1:0' }, { address: '127.0.0.1:5' }), true)
  assert.equal(kind.satisfies({ address: '127.0.0.1:6' }, { address: '127.0.0.1:5' }), false)
  assert.equal(kind.satisfies({ address: '0.0.0.0:0' }, { address: '127.0.0.1:5' }), false)
})
