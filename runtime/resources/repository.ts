/**
 * The `node_resources` table: what each node should run. Only persistence: validation is the
 * kinds' job, liveness the manager's.
 */
import type { Database } from 'better-sqlite3'
import { OckamError } from '../errors.js'
import { DEFAULT_RESOURCE_MAX_PER_NODE, DEFAULT_RESOURCE_MAX_SPEC_BYTES } from './constants.js'

export interface ResourceRecord {
  readonly node: string
  readonly kind: string
  readonly name: string
  /** Parsed JSON; untrusted until the kind validates it. */
  readonly spec: unknown
  readonly createdAt: number
  readonly updatedAt: number
}

interface Row {
  node: string
  kind: string
  name: string
  spec: string
  created_at: number
  updated_at: number
}

export interface ResourceRepository {
  list(node: string, kind?: string): ResourceRecord[]
  get(node: string, kind: string, name: string): ResourceRecord | undefined
  /** Inserts; OCKAM_ERR_RESOURCE_ALREADY_EXISTS when (node, kind, name) is taken. */
  insert(node: string, kind: string, name: string, spec: unknown): ResourceRecord
  /** Replaces the spec of an existing resource (config reconciliation). */
  update(node: string, kind: string, name: string, spec: unknown): void
  /** True if a row was deleted. */
  delete(node: string, kind: string, name: string): boolean
}

function encodeSpec(spec: unknown): string {
  const text = JSON.stringify(spec)
  if (text === undefined) throw new OckamError('OCKAM_ERR_RESOURCE_INVALID', 'a resource spec must be JSON')
  const bytes = Buffer.byteLength(text)
  if (bytes > DEFAULT_RESOURCE_MAX_SPEC_BYTES) {
    throw new OckamError(
      'OCKAM_ERR_RESOURCE_INVALID',
      `a resource spec of ${bytes} bytes exceeds ${DEFAULT_RESOURCE_MAX_SPEC_BYTES}`,
    )
  }
  return text
}

function toRecord(row: Row): ResourceRecord {
  let spec: unknown
  try {
    spec = JSON.parse(row.spec)
  } catch {
    spec = null // json_valid() guards the column; the kind's validate() reports a null spec
  }
  return { node: row.node, kind: row.kind, name: row.name, spec, createdAt: row.created_at, updatedAt: row.updated_at }
}

export function createResourceRepository(db: Database, now: () => number = Date.now): ResourceRepository {
  const byNode = db.prepare<[string], Row>('SELECT * FROM node_resources WHERE node = ? ORDER BY rowid')
  const byKind = db.prepare<[string, string], Row>(
    'SELECT * FROM node_resources WHERE node = ? AND kind = ? ORDER BY rowid',
  )
  const one = db.prepare<[string, string, string], Row>(
    'SELECT * FROM node_resources WHERE node = ? AND kind = ? AND name = ?',
  )
  const count = db.prepare<[string], number>('SELECT COUNT(*) FROM node_resources WHERE node = ?').pluck()
  const insert = db.prepare(
    'INSERT INTO node_resources (node, kind, name, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const update = db.prepare(
    'UPDATE node_resources SET spec = ?, updated_at = ? WHERE node = ? AND kind = ? AND name = ?',
  )
  const remove = db.prepare('DELETE FROM node_resources WHERE node = ? AND kind = ? AND name = ?')

  const insertTx = db.transaction((node: string, kind: string, name: string, spec: string, at: number) => {
    if (one.get(node, kind, name) !== undefined) {
      throw new OckamError('OCKAM_ERR_RESOURCE_ALREADY_EXISTS', `node ${node} already has a ${kind} named ${name}`, {
        hint: `delete it first, or pick another name`,
        data: { node, kind, name },
      })
    }
    if ((count.get(node) ?? 0) >= DEFAULT_RESOURCE_MAX_PER_NODE) {
      throw new OckamError(
        'OCKAM_ERR_RESOURCE_INVALID',
        `node ${node} already records ${DEFAULT_RESOURCE_MAX_PER_NODE} resources`,
        { hint: 'delete resources it no longer needs' },
      )
    }
    insert.run(node, kind, name, spec, at, at)
  })

  return {
    list(node, kind) {
      return (kind === undefined ? byNode.all(node) : byKind.all(node, kind)).map(toRecord)
    },
    get(node, kind, name) {
      const row = one.get(node, kind, name)
      return row === undefined ? undefined : toRecord(row)
    },
    insert(node, kind, name, spec) {
      const text = encodeSpec(spec)
      const at = now()
      insertTx.immediate(node, kind, name, text, at)
      return { node, kind, name, spec: JSON.parse(text) as unknown, createdAt: at, updatedAt: at }
    },
    update(node, kind, name, spec) {
      update.run(encodeSpec(spec), now(), node, kind, name)
    },
    delete(node, kind, name) {
      return remove.run(node, kind, name).changes > 0
    },
  }
}
