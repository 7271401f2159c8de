/**
 * What every command that acts on a node calls: `connectNode(--at value)` gives a control
 * client of a running node. With no name it uses the default node, creating (as `default`) or
 * starting it first, as the walkthrough expects (`tcp-outlet create` on a fresh state folder).
 */
import type { ControlClient } from '../control/client.js'
import { isOckamError, OckamError } from '../errors.js'
import { DEFAULT_NODE_NAME } from './constants.js'
import { NodeManager } from './node-manager.js'

export interface NodeConnection {
  readonly name: string
  readonly client: ControlClient
  /** True if this call created or started the node. */
  readonly started: boolean
}

export interface ConnectNodeOptions {
  /** An open manager to use (its state folder); otherwise one is opened and closed here. */
  readonly manager?: NodeManager
  /** Progress lines ("starting the default node…"); the CLI passes Output.progress. */
  readonly progress?: (line: string) => void
}

async function withManager<T>(options: ConnectNodeOptions, fn: (manager: NodeManager) => Promise<T>): Promise<T> {
  if (options.manager !== undefined) return await fn(options.manager)
  const manager = NodeManager.open()
  try {
    return await fn(manager)
  } finally {
    manager.close()
  }
}

/** The default node, running: created as `default` if there is none, started if stopped. */
export function ensureDefaultNode(options: ConnectNodeOptions = {}): Promise<NodeConnection> {
  return withManager(options, async (manager) => {
    const progress = options.progress ?? (() => {})
    // Two commands may race to create or start it: whoever loses finds it running.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = manager.nodes.defaultNode()
      const name = current?.name ?? DEFAULT_NODE_NAME
      try {
        if (current === undefined && manager.nodes.get(name) === undefined) {
          progress(`creating the default node ${name}…`)
          await manager.create(name)
          if (manager.nodes.defaultNode() === undefined) manager.nodes.setDefault(name)
          return { name, client: manager.client(name), started: true }
        }
        if ((await manager.hello(name)).hello !== undefined)
          return { name, client: manager.client(name), started: false }
        progress(`starting the default node ${name}…`)
        await manager.start(name)
        return { name, client: manager.client(name), started: true }
      } catch (error) {
        if (
          !isOckamError(error, 'OCKAM_ERR_NODE_ALREADY_EXISTS') &&
          !isOckamError(error, 'OCKAM_ERR_NODE_ALREADY_RUNNING')
        ) {
          throw error
        }
      }
    }
    throw new OckamError('OCKAM_ERR_NODE_START_FAILED', 'the default node could not be created or started', {
      hint: 'see ockam-runtime node list',
    })
  })
}

/**
 * A running node's control client: the named node (which must exist and run: a named node is
 * never started behind the user's back) or, with no name, the default node via ensureDefaultNode.
 */
export function connectNode(name: string | undefined, options: ConnectNodeOptions = {}): Promise<NodeConnection> {
  if (name === undefined) return ensureDefaultNode(options)
  return withManager(options, async (manager) => {
    const resolved = manager.resolveName(name)
    const answer = await manager.hello(resolved)
    if (answer.hello === undefined) {
      throw new OckamError('OCKAM_ERR_NODE_NOT_RUNNING', `node ${resolved} is not running`, {
        hint: `start it with: ockam-runtime node start ${resolved}`,
        data: { node: resolved },
      })
    }
    return { name: resolved, client: manager.client(resolved), started: false }
  })
}
