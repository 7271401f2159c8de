/** Log rotation by size, pid files read defensively, systemd quoting, socket path fallback. */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { controlSocketLocation } from '../../../runtime/control/socket-path.js'
import { openRotatingLog } from '../../../runtime/daemon/log-file.js'
import {
  ensureNodeDir,
  nodeFiles,
  readPidFile,
  removePidFile,
  writePidFile,
} from '../../../runtime/daemon/node-files.js'
import { quoteSystemd, userUnitDir } from '../../../runtime/daemon/systemd-unit.js'

function dir(t: TestContext): string {
  const path = mkdtempSync(join(tmpdir(), 'ockam-daemon-'))
  t.after(() => rmSync(path, { recursive: true, force: true }))
  return path
}

test('the log rotates by size: current file truncated, older copies shifted, oldest dropped', (t) => {
  const path = join(dir(t), 'node.log')
  const log = openRotatingLog({ path, maxBytes: 100, rotatedFiles: 2 })
  const line = (n: number) => `${String(n).padStart(3, '0')} ${'x'.repeat(45)}\n` // 50 bytes
  for (let i = 0; i < 9; i++) log.write(line(i))
  log.close()
  assert.equal(statSync(path).mode & 0o777, 0o600)
  assert.equal(statSync(`${path}.1`).mode & 0o777, 0o600)
  // Rotation after lines 2, 5, 8 (each time the file passes 100 bytes).
  assert.equal(readFileSync(path, 'utf8'), '')
  assert.equal(readFileSync(`${path}.1`, 'utf8'), line(6) + line(7) + line(8))
  assert.equal(readFileSync(`${path}.2`, 'utf8'), line(3) + line(4) + line(5))
  assert.equal(existsSync(`${path}.3`), false)
})

test('pid files: written atomically 0600; garbage reads as pid 0 (stale), missing as undefined', (t) => {
  const files = nodeFiles(dir(t), 'n1')
  ensureNodeDir(files)
  assert.equal(readPidFile(files), undefined)
  writePidFile(files, { pid: 1234, startedAt: 5, version: '0.1.0' })
  assert.equal(statSync(files.pidFile).mode & 0o777, 0o600)
  assert.deepEqual(readPidFile(files), { pid: 1234, startedAt: 5, version: '0.1.0' })
  removePidFile(files, 999)
  assert.ok(existsSync(files.pidFile), 'only removed when it names the given pid')
  for (const garbage of ['', 'x', '{"pid":-1}', '{"pid":"1"}', '9'.repeat(5000)]) {
    writeFileSync(files.pidFile, garbage)
    assert.equal(readPidFile(files)?.pid, 0, garbage.slice(0, 10))
  }
  removePidFile(files)
  assert.equal(existsSync(files.pidFile), false)
})

test('systemd values are quoted so any path survives', () => {
  assert.equal(quoteSystemd('/a b/c'), '"/a b/c"')
  assert.equal(quoteSystemd('100%"$HOME\\'), '"100%%\\"$$HOME\\\\"')
  assert.equal(userUnitDir({ XDG_CONFIG_HOME: '/x' }, '/home/u'), '/x/systemd/user')
  assert.equal(userUnitDir({}, '/home/u'), '/home/u/.config/systemd/user')
})

test('socket paths stay under 100 bytes: in the state folder when short, hashed under /tmp otherwise', () => {
  const short = controlSocketLocation('/s', 'n1')
  assert.deepEqual(short, { path: '/s/run/n1.sock', dir: '/s/run', fallback: false })
  const long = controlSocketLocation(`/${'d'.repeat(120)}`, 'n1')
  assert.equal(long.fallback, true)
  assert.ok(Buffer.byteLength(long.path) < 100)
  const other = controlSocketLocation(`/${'e'.repeat(120)}`, 'n1')
  assert.notEqual(long.path, other.path, 'two state folders never share a socket')
  assert.notEqual(long.path, controlSocketLocation(`/${'d'.repeat(120)}`, 'n2').path)
  const longName = controlSocketLocation('/s', 'n'.repeat(63))
  assert.ok(Buffer.byteLength(longName.path) < 100)
})
