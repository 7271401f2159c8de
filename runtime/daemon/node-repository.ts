/**
 * The `nodes` table: which nodes this state folder has, their settings and which one is the
 * default. The CLI writes it directly (creating and deleting nodes); what a node runs lives in
 * `node_resources`, written by the node itself while it runs.
 */
import type { Database } from 'better-sqlite3'
import { OckamError } from '../errors.js'
import { NODE_NAME_PATTERN } from './constants.js'

export interface NodeSettings {
  /** The identity the node presents (named identity of this state folder). */
  readonly identity?: string
  /** Identifiers its `api` secure-channel listener admits; default the identities of the state folder. */
  readonly authorized?: readonly string[]
  /** `host:port` targets the node's forwarding service may dial. */
  readonly forwardTo?: readonly string[]
  /** Absolute path of the config file that declares this node (`start` reconciles it). */
  readonly managedBy?: string
}

export interface NodeRecord {
  readonly name: string
  readonly isDefault: boolean
  readonly settings: NodeSettings
  readonly createdAt: number
}

interface Row {
  name: string
  is_default: number
  settings: string
  created_at: number
}

export interface NodeRepository {
  list(): NodeRecord[]
  get(name: string): NodeRecord | undefined
  /** Throws OCKAM_ERR_NODE_NOT_FOUND. */
  require(name: string): NodeRecord
  /** Inserts a node; it becomes the default if there is none. OCKAM_ERR_NODE_ALREADY_EXISTS if taken. */
  insert(name: string, settings: NodeSettings): NodeRecord
  updateSettings(name: string, settings: NodeSettings): void
  /** Deletes the node and its resources; if it was the default, the oldest remaining node is. */
  delete(name: string): boolean
  defaultNode(): NodeRecord | undefined
  setDefault(name: string): void
}

export function checkNodeName(name: string): string {
  if (!NODE_NAME_PATTERN.test(name)) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `"${name.slice(0, 80)}" is not a valid node name`, {
      hint: 'node names are 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit',
    })
  }
  return name
}

function parseSettings(text: string): NodeSettings {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null ? (value as NodeSettings) : {}
  } catch {
    return {}
  }
}

function toRecord(row: Row): NodeRecord {
  return {
    name: row.name,
    isDefault: row.is_default === 1,
    settings: parseSettings(row.settings),
    createdAt: row.created_at,
  }
}

export function notFound(name: string): OckamError {
  return new OckamError('OCKAM_ERR_NODE_NOT_FOUND', `there is no node ${name} in this state folder`, {
    hint: 'list them with: ockam-runtime node list (or create it: ockam-runtime node create NAME)',
    data: { node: name },
  })
}

export function createNodeRepository(db: Database, now: () => number = Date.now): NodeRepository {
  const all = db.prepare<[], Row>('SELECT * FROM nodes ORDER BY created_at, name')
  const one = db.prepare<[string], Row>('SELECT * FROM nodes WHERE name = ?')
  const current = db.prepare<[], Row>('SELECT * FROM nodes WHERE is_default = 1')
  const insert = db.prepare('INSERT INTO nodes (name, is_default, settings, created_at) VALUES (?, ?, ?, ?)')
  const settings = db.prepare('UPDATE nodes SET settings = ? WHERE name = ?')
  const remove = db.prepare('DELETE FROM nodes WHERE name = ?')
  const clearDefault = db.prepare('UPDATE nodes SET is_default = 0 WHERE is_default = 1')
  const makeDefault = db.prepare('UPDATE nodes SET is_default = 1 WHERE name = ?')
  const oldest = db.prepare<[], Row>('SELECT * FROM nodes ORDER BY created_at, name LIMIT 1')

  const insertTx = db.transaction((name: string, text: string, at: number) => {
    if (one.get(name) !== undefined) {
      throw new OckamError('OCKAM_ERR_NODE_ALREADY_EXISTS', `node ${name} already exists`, {
        hint: `start it with: ockam-runtime node start ${name}, or delete it first: ockam-runtime node delete ${name}`,
        data: { node: name },
      })
    }
    insert.run(name, current.get() === undefined ? 1 : 0, text, at)
  })
  const deleteTx = db.transaction((name: string) => {
    const row = one.get(name)
    if (row === undefined) return false
    remove.run(name)
    if (row.is_default === 1) {
      const next = oldest.get()
      if (next !== undefined) makeDefault.run(next.name)
    }
    return true
  })
  const setDefaultTx = db.transaction((name: string) => {
    if (one.get(name) === undefined) throw notFound(name)
    clearDefault.run()
    makeDefault.run(name)
  })

  return {
    list: () => all.all().map(toRecord),
    get(name) {
      const row = one.get(name)
      return row === undefined ? undefined : toRecord(row)
    },
    require(name) {
      const row = one.get(name)
      if (row === undefined) throw notFound(name)
      return toRecord(row)
    },
    insert(name, value) {
      checkNodeName(name)
      insertTx.immediate(name, JSON.stringify(value), now())
      return this.require(name)
    },
    updateSettings(name, value) {
      settings.run(JSON.stringify(value), name)
    },
    delete: (name) => deleteTx.immediate(name),
    defaultNode() {
      const row = current.get()
      return row === undefined ? undefined : toRecord(row)
    },
    setDefault: (name) => setDefaultTx.immediate(name),
  }
}
