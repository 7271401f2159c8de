import assert from 'node:assert/strict'
import { test } from 'node:test'
import { local } from '../../../runtime/address.js'
import { createDefaultNode } from '../../../runtime/defaults.js'
import { OckamError } from '../../../runtime/errors.js'
import { captureLog } from '../../helpers/log-capture.js'

test('a handler failing on every message is counted every time but logged once per code', async (t) => {
  const logs = captureLog('n')
  const node = createDefaultNode({ name: 'n', pool: { threads: 0 }, log: logs.log })
  await node.start()
  t.after(() => node.stop())
  let handled = 0
  let lastHandled!: () => void
  const done = new Promise<void>((resolve) => {
    lastHandled = resolve
  })
  await node.startWorker(local('failing'), {
    handleMessage() {
      handled++
      if (handled === 100) lastHandled()
      throw new OckamError('OCKAM_ERR_ROUTER_NO_DIAL', 'refused on purpose')
    },
  })
  for (let i = 0; i < 100; i++) await node.context.send([local('failing')], Buffer.from([i]))
  // The 100th handler throws synchronously right after resolving `done`, and the router catches
  // it in the same tick, before the test's continuation runs.
  await done
  assert.equal(node.counters.get('router.handler_errors'), 100)
  const lines = logs.lines.filter((l) => l.msg === 'worker failed to handle a message')
  assert.equal(lines.length, 1)
  assert.equal(lines[0]?.code, 'OCKAM_ERR_ROUTER_NO_DIAL')
  assert.equal(lines[0]?.address, '0#failing')
})
