import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isOckamError } from '../../../runtime/errors.js'
import { startThreadService } from '../../../runtime/threads/thread-service.js'
import type { TestService } from './fixtures/test-thread.js'

const MODULE = new URL('./fixtures/test-thread.js', import.meta.url)

test('methods run on the thread, arguments and results cross, calls are counted', async () => {
  const service = await startThreadService<TestService>(MODULE, {}, { name: 'test' })
  try {
    assert.equal(service.calls, 0)
    assert.deepEqual(await service.api.echo(new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]))
    assert.equal(await service.api.add(2, 3), 5)
    assert.equal(service.calls, 2)
    assert.equal(service.pending, 0)
  } finally {
    await service.stop()
  }
})

test('an OckamError thrown in the thread arrives with its code, hint and data', async () => {
  const service = await startThreadService<TestService>(MODULE, {})
  try {
    await assert.rejects(service.api.throwTyped(), (error: unknown) => {
      assert.ok(isOckamError(error, 'OCKAM_ERR_VAULT_KEY_NOT_FOUND'))
      assert.equal(error.message, 'no key k1')
      assert.equal(error.hint, 'list the keys')
      assert.deepEqual(error.data, { handle: 'k1' })
      return true
    })
    await assert.rejects(service.api.throwPlain(), (error: unknown) => {
      assert.ok(isOckamError(error, 'OCKAM_ERR_INTERNAL'))
      assert.match(error.message, /RangeError: plain failure/)
      return true
    })
    const notCloneable = (() => 1) as unknown as Uint8Array
    await assert.rejects(service.api.echo(notCloneable), (error: unknown) =>
      isOckamError(error, 'OCKAM_ERR_INVALID_ARGUMENT'),
    )
    assert.equal(await service.api.add(1, 1), 2, 'the service still works after errors')
  } finally {
    await service.stop()
  }
})

test('a factory that throws rejects the start with its own typed error', async () => {
  await assert.rejects(startThreadService<TestService>(MODULE, { failInit: true }), (error: unknown) => {
    assert.ok(isOckamError(error, 'OCKAM_ERR_CONFIG_INVALID'))
    assert.equal(error.hint, 'fix the init')
    assert.deepEqual(error.data, { field: 'x' })
    return true
  })
})

test('an unexpected thread exit rejects every pending call with OCKAM_ERR_THREAD_SERVICE_FAILED', async () => {
  const service = await startThreadService<TestService>(MODULE, {}, { name: 'test' })
  const hanging = service.api.hang()
  const exiting = service.api.exit(7)
  assert.equal(service.pending, 2)
  for (const call of [hanging, exiting]) {
    await assert.rejects(call, (error: unknown) => {
      assert.ok(isOckamError(error, 'OCKAM_ERR_THREAD_SERVICE_FAILED'))
      assert.deepEqual(error.data, { exitCode: 7 })
      return true
    })
  }
  await assert.rejects(service.api.add(1, 2), (error: unknown) =>
    isOckamError(error, 'OCKAM_ERR_THREAD_SERVICE_FAILED'),
  )
  await service.stop()
})

test('a crash in the thread (uncaught exception) fails pending calls too', async () => {
  const service = await startThreadService<TestService>(MODULE, {})
  const hanging = service.api.hang()
  // The crash call itself may be answered or fail with the crash, depending on which the
  // thread's event loop gets to first under load; either way the hanging call must fail.
  await service.api.crash().catch((error: unknown) => {
    assert.ok(isOckamError(error, 'OCKAM_ERR_THREAD_SERVICE_FAILED'))
  })
  await assert.rejects(hanging, (error: unknown) => {
    assert.ok(isOckamError(error, 'OCKAM_ERR_THREAD_SERVICE_FAILED'))
    assert.match(error.message, /boom in the thread/)
    return true
  })
  await service.stop()
})

test('stop() rejects pending calls with OCKAM_ERR_STOPPED, is idempotent, and later calls fail typed', async () => {
  const service = await startThreadService<TestService>(MODULE, {})
  const hanging = service.api.hang()
  const stopping = service.stop()
  await assert.rejects(hanging, (error: unknown) => isOckamError(error, 'OCKAM_ERR_STOPPED'))
  await stopping
  await service.stop()
  await assert.rejects(service.api.add(1, 2), (error: unknown) => isOckamError(error, 'OCKAM_ERR_STOPPED'))
})

test('an aborted signal refuses to start', async () => {
  await assert.rejects(startThreadService<TestService>(MODULE, {}, { signal: AbortSignal.abort() }), (error: unknown) =>
    isOckamError(error, 'OCKAM_ERR_ABORTED'),
  )
  const controller = new AbortController()
  const starting = startThreadService<TestService>(MODULE, {}, { signal: controller.signal })
  controller.abort()
  await assert.rejects(starting, (error: unknown) => isOckamError(error, 'OCKAM_ERR_ABORTED'))
})

test('stop() terminates a thread whose close() does not return within the stop timeout', async () => {
  const service = await startThreadService<TestService>(MODULE, { hangOnClose: true }, { stopTimeoutMs: 50 })
  assert.equal(await service.api.add(1, 2), 3)
  await service.stop()
  await assert.rejects(service.api.add(1, 2), (error: unknown) => isOckamError(error, 'OCKAM_ERR_STOPPED'))
})

test('an idle thread service does not keep the process alive', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ockam-thread-idle-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const script = join(dir, 'idle.mjs')
  writeFileSync(
    script,
    `import { startThreadService } from ${JSON.stringify(new URL('../../../runtime/threads/thread-service.js', import.meta.url).href)}
const service = await startThreadService(new URL(${JSON.stringify(MODULE.href)}), {})
console.log(await service.api.add(20, 22))
`,
  )
  const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 8000 })
  assert.equal(child.signal, null, 'the child had to be killed: the idle thread kept it alive')
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stdout.trim(), '42')
})
