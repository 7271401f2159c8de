/** The `ockam-runtime` binary end to end: help, version, message send, start and its config checks. */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CLI, runCli, spawnNode, tempHome } from '../helpers/cli.js'

/** Temp folders inside the package, so a config can `import … from 'ockam-runtime'` (self-reference). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
function tempDir(): string {
  return mkdtempSync(join(PACKAGE_ROOT, 'dist', 'tmp-cli-'))
}

test('--version prints the package version; --help lists the commands', async () => {
  const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
  const v = await runCli(['--version'])
  assert.equal(v.code, 0)
  assert.equal(v.stdout.trim(), version)
  const help = await runCli(['--help'])
  assert.equal(help.code, 0)
  for (const command of ['node', 'message', 'start']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`))
})

test('message send prints the reply and exits 0; failures are one line with a hint and exit non-zero', async (t) => {
  const node = await spawnNode(t, 'n1')
  const [host, port] = (node.listeners[0] as string).split(':')
  const ok = await runCli(['message', 'send', 'héllo wörld', '--to', `/ip4/${host}/tcp/${port}/service/echo`])
  assert.equal(ok.code, 0, ok.stderr)
  assert.equal(ok.stdout, 'héllo wörld\n')
  assert.equal(ok.stderr, '', 'nothing but data on a successful run')

  const json = await runCli([
    '--output',
    'json',
    'message',
    'send',
    'x',
    '--to',
    `/ip4/${host}/tcp/${port}/service/echo`,
  ])
  assert.deepEqual(JSON.parse(json.stdout), { reply: 'x' })

  const refused = await runCli(['message', 'send', 'x', '--to', '/ip4/127.0.0.1/tcp/1/service/echo'])
  assert.equal(refused.code, 1)
  assert.equal(refused.stdout, '')
  assert.match(refused.stderr, /^error: OCKAM_ERR_TCP_CONNECT_FAILED: .*ECONNREFUSED.*node create/)
  assert.equal(refused.stderr.trim().split('\n').length, 1)

  const badRoute = await runCli(['message', 'send', 'x', '--to', '/ip4/300.0.0.1/tcp/1'])
  assert.equal(badRoute.code, 1)
  assert.match(badRoute.stderr, /OCKAM_ERR_MULTIADDR_INVALID/)

  const noWorker = await runCli([
    'message',
    'send',
    'x',
    '--to',
    `/ip4/${host}/tcp/${port}/service/nobody`,
    '--timeout',
    '500',
  ])
  assert.equal(noWorker.code, 1)
  assert.match(noWorker.stderr, /OCKAM_ERR_TIMEOUT: no reply within 500 ms/)

  const usage = await runCli(['message', 'send', 'x'])
  assert.equal(usage.code, 2)
  assert.match(usage.stderr, /--to/)
})

test('start --check reports every mistake of a config with its path', async () => {
  const dir = tempDir()
  const file = join(dir, 'bad.config.ts')
  writeFileSync(
    file,
    `export default {
      pools: { crypto: { threads: -1 } },
      nodes: { Bad_Name: {}, ok: { listen: 'nowhere', forwardTo: ['127.0.0.1:99999'], extra: true } },
    }\n`,
  )
  const result = await runCli(['start', '--check', '--config', file])
  assert.equal(result.code, 1)
  assert.match(result.stderr, /OCKAM_ERR_CONFIG_INVALID: .* has 5 mistakes/)
  for (const path of [
    'pools.crypto.threads',
    'nodes.Bad_Name',
    'nodes.ok.listen',
    'nodes.ok.forwardTo.0',
    'nodes.ok',
  ]) {
    assert.ok(result.stderr.includes(`  ${path}: `), `missing ${path} in:\n${result.stderr}`)
  }
  assert.match(result.stderr, /unknown field "extra"/)

  const missing = await runCli(['start', '--check', '--config', join(dir, 'nope.ts')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /OCKAM_ERR_CONFIG_NOT_FOUND/)
})

test('start brings up a typed config, checks reachability, prints a working command and stops on SIGTERM', async (t) => {
  const { env } = tempHome(t)
  const dir = tempDir()
  const file = join(dir, 'ockam.config.ts')
  writeFileSync(
    file,
    `import { defineConfig } from 'ockam-runtime'
export default defineConfig({
  pools: { crypto: { threads: 1 } },
  logging: { level: 'warn' },
  nodes: { one: { listen: '127.0.0.1:0' }, two: { listen: '127.0.0.1:0', forwardTo: ['127.0.0.1:1'] }, three: {} },
})\n`,
  )
  const check = await runCli(['start', '--check', '--config', file], env)
  assert.equal(check.code, 0, check.stderr)
  assert.match(
    check.stdout,
    /node two \(create\): listens on 127\.0\.0\.1:0, services echo, forward \(to 127\.0\.0\.1:1\)/,
  )

  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', '--config', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const output: string[] = []
  let tryIt: string | undefined
  for await (const line of lines) {
    output.push(line)
    const match = /^\s+npx ockam-runtime (.*)$/.exec(line)
    if (match !== null) {
      tryIt = match[1]
      break
    }
  }
  assert.ok(tryIt !== undefined, `no try-it line in ${output.join('\n')}`)
  const reply = await runCli(tryIt.split(' '), env)
  assert.equal(reply.code, 0, reply.stderr)
  assert.equal(reply.stdout, 'hello\n')
  child.kill('SIGTERM')
  const [code] = (await once(child, 'close')) as [number | null]
  assert.equal(code, 0)
})
