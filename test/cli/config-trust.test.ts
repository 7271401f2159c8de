/** ockam.config.ts declares identities and policies; `start` creates what is missing, once. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CLI, runCli, tempHome } from '../helpers/cli.js'

/** Inside the package, so the config can import 'ockam-runtime' (self-reference). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

function writeConfig(body: string): string {
  const dir = mkdtempSync(join(PACKAGE_ROOT, 'dist', 'tmp-config-'))
  const file = join(dir, 'ockam.config.ts')
  writeFileSync(file, `import { defineConfig } from 'ockam-runtime'\nexport default defineConfig(${body})\n`)
  return file
}

test('identities and policies from the config are created once, and the node records its identity', async (t) => {
  const { home, env } = tempHome(t)
  const file = writeConfig(`{
    identities: ['alice', 'bob'],
    policies: {
      resourceTypes: { 'tcp-outlet': 'role.analyst and not contractor' },
      resources: { db: '(= subject.env "prod")' },
    },
    logging: { level: 'warn' },
    nodes: { one: { listen: '127.0.0.1:0', identity: 'bob' } },
  }`)

  const check = await runCli(['start', '--check', '--config', file], env)
  assert.equal(check.code, 0, check.stderr)
  for (const line of [
    'create identity alice',
    'create identity bob',
    'set policy of resource-type tcp-outlet: (and (= subject.role "analyst") (not (= subject.contractor "true")))',
    'set policy of resource db: (= subject.env "prod")',
  ]) {
    assert.ok(check.stdout.includes(line), `missing "${line}" in:\n${check.stdout}`)
  }
  assert.equal(existsSync(home), false, '--check creates no state folder')

  const child = spawn(process.execPath, [CLI, 'start', '--config', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  for await (const line of createInterface({ input: child.stdout })) if (line.startsWith('topology is up')) break
  child.kill('SIGTERM')
  assert.equal(((await once(child, 'close')) as [number | null])[0], 0)

  const identities = JSON.parse((await runCli(['--output', 'json', 'identity', 'list'], env)).stdout) as Array<{
    name: string
    isDefault: boolean
  }>
  assert.deepEqual(
    identities.map((i) => [i.name, i.isDefault]),
    [
      ['alice', true],
      ['bob', false],
    ],
  )
  const policies = JSON.parse((await runCli(['--output', 'json', 'policy', 'list'], env)).stdout) as unknown[]
  assert.equal(policies.length, 2)
  const node = JSON.parse((await runCli(['--output', 'json', 'node', 'show', 'one'], env)).stdout) as {
    identity?: string
  }
  assert.equal(node.identity, 'bob')

  // Idempotent: nothing to create or change the second time.
  const again = await runCli(['start', '--check', '--config', file], env)
  assert.equal(again.code, 0, again.stderr)
  assert.ok(!again.stdout.includes('create identity'), again.stdout)
  assert.ok(!again.stdout.includes('set policy'), again.stdout)
})

test('a malformed policy, a bad identity name and an unknown node identity are reported with their paths', async (t) => {
  const { env } = tempHome(t)
  const bad = writeConfig(`{
    identities: ['no spaces'],
    policies: { resourceTypes: { 'tcp-outlet': '(and (= subject.role "x")' } },
    nodes: { one: {} },
  } as never`)
  const result = await runCli(['start', '--check', '--config', bad], env)
  assert.equal(result.code, 1)
  assert.match(result.stderr, /has 2 mistakes/)
  assert.match(result.stderr, / {2}identities\.0: identity names are/)
  assert.match(result.stderr, / {2}policies\.resourceTypes\.tcp-outlet: expected .* at 1:\d+/)

  const unknown = writeConfig(`{ nodes: { one: { identity: 'ghost' } } }`)
  const missing = await runCli(['start', '--check', '--config', unknown], env)
  assert.equal(missing.code, 1)
  assert.match(
    missing.stderr,
    /OCKAM_ERR_CONFIG_INVALID: nodes\.one\.identity: no identity named "ghost".*identity create ghost/,
  )
})
