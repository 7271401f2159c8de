/**
 * Tells every running node of the state folder that something they read at start changed (the
 * folder joined a project). Best effort: a node that does not answer is told nothing and sees
 * the change when it next starts; the answer says which nodes were told.
 */
import { NodeManager } from './node-manager.js'

export async function tellRunningNodes(method: string): Promise<{ told: string[]; failed: string[] }> {
  const manager = NodeManager.open()
  const told: string[] = []
  const failed: string[] = []
  try {
    for (const record of manager.nodes.list()) {
      if ((await manager.hello(record.name)).hello === undefined) continue
      try {
        await manager.client(record.name).call(method)
        told.push(record.name)
      } catch {
        failed.push(record.name)
      }
    }
  } finally {
    manager.close()
  }
  return { told, failed }
}
