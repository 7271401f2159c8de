export * from './constants.js'
export { type ConnectNodeOptions, connectNode, ensureDefaultNode, type NodeConnection } from './ensure-node.js'
export {
  type HelloResult,
  type NodeHost,
  type NodeHostOptions,
  type NodeStatusResult,
  startNodeHost,
} from './node-host.js'
export {
  type CreateNodeOptions,
  NodeManager,
  type NodeManagerOptions,
  type NodeRunState,
  type NodeSummary,
} from './node-manager.js'
export { checkNodeName, type NodeRecord, type NodeRepository, type NodeSettings } from './node-repository.js'
export { runNodeProcess } from './run-node-process.js'
