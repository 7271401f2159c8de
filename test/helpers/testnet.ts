/**
 * In-process test network (hyperdht's testnet idea): N nodes on 127.0.0.1 with ephemeral ports,
 * always stopped by the test's teardown.
 */
import type { TestContext } from 'node:test'
import { createDefaultNode, type DefaultNodeOptions, tcpOf } from '../../runtime/defaults.js'
import type { OckamNode } from '../../runtime/node.js'
import { captureLog } from './log-capture.js'

export interface TestNode {
  readonly node: OckamNode
  /** `127.0.0.1:PORT` the node listens on. */
  readonly address: string
  readonly logs: ReturnType<typeof captureLog>
}

export async function startTestNode(
  t: TestContext,
  name: string,
  options: Partial<DefaultNodeOptions> = {},
): Promise<TestNode> {
  const logs = captureLog(name)
  const node = createDefaultNode({ name, listen: ['127.0.0.1:0'], pool: { threads: 0 }, log: logs.log, ...options })
  t.after(() => node.stop())
  await node.start()
  const address = tcpOf(node).listenAddresses()[0] ?? ''
  return { node, address, logs }
}
