/** Shared by the identity, credential and policy CLI tests: temporary state folders and assertions on results. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openStateStore } from '../../runtime/state/store.js'
import { createIdentitiesService } from '../../runtime/trust/identities/identities.js'
import { exportIdentity } from '../../runtime/trust/identity/text.js'
import { createVault } from '../../runtime/trust/vault/create-vault.js'
import { type CliResult, runCli } from '../helpers/cli.js'

/** The CLI bound to a fresh OCKAM_RUNTIME_HOME (and no vault passphrase unless `env` sets one). */
export interface Home {
  readonly dir: string
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>
  /** Runs with --output json, asserts exit 0 and returns the parsed stdout. */
  json<T = Record<string, unknown>>(args: string[], env?: NodeJS.ProcessEnv): Promise<T>
  /** Runs, asserts exit 0 and nothing on stderr, returns stdout without the final newline. */
  ok(args: string[], env?: NodeJS.ProcessEnv): Promise<string>
}

export function scratchHome(t: TestContext): Home {
  const root = mkdtempSync(join(tmpdir(), 'ockam-cli-trust-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const dir = join(root, 'home')
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(args, {
      OCKAM_RUNTIME_HOME: dir,
      OCKAM_RUNTIME_VAULT_PASSPHRASE: undefined,
      OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE: undefined,
      ...env,
    })
  return {
    dir,
    run,
    async json(args, env) {
      const result = await run(['--output', 'json', ...args], env)
      assert.equal(result.code, 0, result.stderr)
      return JSON.parse(result.stdout)
    },
    async ok(args, env) {
      const result = await run(args, env)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stderr, '')
      return result.stdout.replace(/\n$/, '')
    },
  }
}

/** Asserts a failure: the exit code, nothing on stdout, and one line on stderr naming `code`. */
export function assertFails(result: CliResult, code: string, exitCode = 1): string {
  assert.equal(result.code, exitCode, `${result.stdout}${result.stderr}`)
  assert.equal(result.stdout, '')
  const lines = result.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, result.stderr)
  assert.match(lines[0] as string, new RegExp(`^error: ${code}: `))
  return lines[0] as string
}

/**
 * Creates identities in `home`'s state folder in this process (cheaper than one CLI process
 * each; `identity create` itself is tested in identity.test.ts). Returns identifier and exported
 * form by name.
 */
export async function createIdentities(
  home: Home,
  names: readonly string[],
): Promise<Record<string, { identifier: string; exported: string }>> {
  const store = openStateStore({ dir: home.dir })
  const vault = await createVault({ mode: 'inline', stateDir: home.dir, env: {} })
  try {
    const identities = createIdentitiesService({ db: store.db, vault })
    const out: Record<string, { identifier: string; exported: string }> = {}
    for (const name of names) {
      const created = await identities.create(name)
      out[name] = { identifier: created.identifier, exported: exportIdentity(created.identity) }
    }
    return out
  } finally {
    await vault.close()
    store.close()
  }
}
