/**
 * The standard assembly of a node: TCP transport, the `echo` service, optionally the
 * forwarding service, and a CPU pool running workers/tasks. This is where runtime, transports
 * and workers meet; the runtime core itself imports none of them.
 */
import { type TcpTransport, type TcpTransportOptions, tcpTransport } from '../transports/tcp/index.js'
import { ECHO_ADDRESS, echoWorker } from '../workers/echo.js'
import { FORWARDER_ADDRESS, forwarderWorker } from '../workers/forwarder.js'
import { CRYPTO_TASK_MODULE } from '../workers/tasks/crypto-tasks.js'
import { allowAll, allowIngress } from './access-control.js'
import type { Logger } from './log.js'
import { type NodeOptions, OckamNode, type ServiceDefinition } from './node.js'
import type { TaskPoolOptions } from './pool/task-pool.js'

export interface DefaultNodeOptions {
  name: string
  /** `host:port` to listen on; none = outgoing connections only. */
  listen?: readonly string[]
  /** Start the forwarding service, allowed to dial these `host:port` targets. */
  forwardTo?: readonly string[]
  tcp?: Omit<TcpTransportOptions, 'listen'>
  pool?: TaskPoolOptions
  log?: Logger
  bufferBudgetBytes?: number
}

export function createDefaultNode(options: DefaultNodeOptions): OckamNode {
  const services: ServiceDefinition[] = [{ address: ECHO_ADDRESS, worker: echoWorker(), incoming: allowAll }]
  if (options.forwardTo !== undefined && options.forwardTo.length > 0) {
    services.push({
      address: FORWARDER_ADDRESS,
      worker: forwarderWorker({ targets: options.forwardTo }),
      incoming: allowIngress('tcp', 'channel'),
    })
  }
  const nodeOptions: NodeOptions = {
    name: options.name,
    transports: [tcpTransport({ ...options.tcp, listen: options.listen ?? [] })],
    services,
    pool: { taskModule: CRYPTO_TASK_MODULE, ...options.pool },
  }
  if (options.log !== undefined) nodeOptions.log = options.log
  if (options.bufferBudgetBytes !== undefined) nodeOptions.bufferBudgetBytes = options.bufferBudgetBytes
  return new OckamNode(nodeOptions)
}

export function tcpOf(node: OckamNode): TcpTransport {
  return node.transport<TcpTransport>('tcp')
}
