/**
 * NODE_HOST_FLAGS must reach every process that hosts nodes. The daemon spawner and the systemd
 * unit take the constant; the CLI's shebang and the npm scripts cannot import it, so they carry
 * the flags literally and this test keeps them in step.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { hasHostFlags, NODE_HOST_FLAGS } from '../../../runtime/host-flags.js'

// Tests run from dist/test/…; the sources sit beside dist.
const repo = fileURLToPath(new URL('../../../../', import.meta.url))

test('the CLI shebang, npm start and npm run bench carry every host flag', () => {
  const shebang = readFileSync(join(repo, 'runtime', 'cli', 'main.ts'), 'utf8').split('\n')[0] ?? ''
  const built = readFileSync(join(repo, 'dist', 'runtime', 'cli', 'main.js'), 'utf8').split('\n')[0] ?? ''
  const scripts = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts
  assert.ok(NODE_HOST_FLAGS.length > 0)
  for (const flag of NODE_HOST_FLAGS) {
    assert.match(shebang, /^#!\/usr\/bin\/env -S node /, 'env -S passes flags to node')
    assert.ok(shebang.split(' ').includes(flag), `shebang ${shebang} has ${flag}`)
    assert.equal(built, shebang, 'tsc keeps the shebang')
    for (const name of ['start', 'bench']) {
      assert.ok(
        scripts[name]?.includes(`node ${NODE_HOST_FLAGS.join(' ')} dist/`),
        `npm ${name} passes ${flag} to node`,
      )
    }
  }
})

test('hasHostFlags tells a process started with the flags from one without', () => {
  assert.equal(hasHostFlags([...NODE_HOST_FLAGS, '--enable-source-maps']), true)
  assert.equal(hasHostFlags(['--enable-source-maps']), false)
  assert.equal(hasHostFlags([]), false)
})
