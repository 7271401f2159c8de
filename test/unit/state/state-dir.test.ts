import assert from 'node:assert/strict'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { isOckamError, type OckamErrorCode } from '../../../runtime/errors.js'
import { ensureStateDir, resolveStateDir, verifyStateDir } from '../../../runtime/state/state-dir.js'

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-state-dir-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function currentUmask(): number {
  const mask = process.umask(0o022)
  process.umask(mask)
  return mask
}

const refusedWith = (code: OckamErrorCode, hint: RegExp) => (error: unknown) => {
  assert.ok(isOckamError(error, code), `expected ${code}, got ${String(error)}`)
  assert.match(error.hint ?? '', hint)
  return true
}

test('resolveStateDir: OCKAM_RUNTIME_HOME when set, ~/.ockam-runtime otherwise, always absolute', () => {
  assert.equal(resolveStateDir({ OCKAM_RUNTIME_HOME: '/srv/ockam' }), '/srv/ockam')
  assert.equal(resolveStateDir({}), join(homedir(), '.ockam-runtime'))
  assert.equal(resolveStateDir({ OCKAM_RUNTIME_HOME: '' }), join(homedir(), '.ockam-runtime'))
  assert.equal(resolveStateDir({ OCKAM_RUNTIME_HOME: 'rel/dir' }), join(process.cwd(), 'rel/dir'))
})

test('a missing folder is created 0700 (parents too) under a wide umask, and the umask is restored', (t) => {
  const before = process.umask(0o000)
  t.after(() => process.umask(before))
  const dir = join(scratch(t), 'a', 'b', 'home')
  assert.equal(ensureStateDir(dir), dir)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  assert.equal(statSync(join(dir, '..')).mode & 0o777, 0o700)
  assert.equal(currentUmask(), 0o000, 'the process umask must be left as it was')
  ensureStateDir(dir)
  verifyStateDir(dir)
})

test('a group- or other-accessible folder is refused with a chmod hint', (t) => {
  for (const mode of [0o750, 0o705, 0o710, 0o701]) {
    const dir = join(scratch(t), 'home')
    mkdirSync(dir)
    chmodSync(dir, mode)
    assert.throws(() => ensureStateDir(dir), refusedWith('OCKAM_ERR_STATE_DIR_PERMISSIONS', /chmod 700/))
    assert.equal(statSync(dir).mode & 0o777, mode, 'a refused folder is left as it was')
  }
})

test('a symlinked folder is refused, even when it points at a good folder', (t) => {
  const base = scratch(t)
  const real = join(base, 'real')
  mkdirSync(real, { mode: 0o700 })
  const link = join(base, 'link')
  symlinkSync(real, link)
  assert.throws(() => ensureStateDir(link), refusedWith('OCKAM_ERR_STATE_DIR_SYMLINK', /real folder/))
})

test('a folder owned by another user is refused (needs root: CI runs as root)', (t) => {
  assert.equal(process.getuid?.(), 0, 'this test needs root to chown a folder to uid 65534; CI runs it as root')
  const dir = join(scratch(t), 'home')
  mkdirSync(dir, { mode: 0o700 })
  chownSync(dir, 65534, 65534)
  assert.throws(() => ensureStateDir(dir), refusedWith('OCKAM_ERR_STATE_DIR_OWNER', /owner/))
})

test('a path that is a file is refused', (t) => {
  const file = join(scratch(t), 'file')
  writeFileSync(file, '')
  assert.throws(
    () => ensureStateDir(file),
    (error: unknown) => isOckamError(error, 'OCKAM_ERR_STATE_DIR_INVALID'),
  )
})
