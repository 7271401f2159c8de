/**
 * The `policies` table (migration 2): one canonical policy text per resource and per resource
 * type. Rows only; runtime/trust/stored-policies.ts parses, validates and picks the one in force.
 */
import type { Database } from 'better-sqlite3'
import { immediate } from './sqlite.js'

export type PolicyTargetKind = 'resource' | 'resource-type'

export interface PolicyRow {
  readonly kind: PolicyTargetKind
  /** The resource name or the resource type. */
  readonly target: string
  /** Canonical text (formatPolicy). */
  readonly expression: string
  /** Unix ms. */
  readonly createdAt: number
  readonly updatedAt: number
}

export interface PolicyRepository {
  /** Inserts or replaces; returns the row as stored and whether it replaced one. */
  put(kind: PolicyTargetKind, target: string, expression: string, now: number): { row: PolicyRow; replaced: boolean }
  get(kind: PolicyTargetKind, target: string): PolicyRow | undefined
  /** Every row: resources first, then resource types, each by name. */
  list(): PolicyRow[]
  delete(kind: PolicyTargetKind, target: string): boolean
}

interface RawPolicyRow {
  target_kind: PolicyTargetKind
  target: string
  expression: string
  created_at: number
  updated_at: number
}

export function createPolicyRepository(db: Database): PolicyRepository {
  const select = db.prepare('SELECT * FROM policies WHERE target_kind = ? AND target = ?')
  const selectAll = db.prepare('SELECT * FROM policies ORDER BY target_kind, target')
  const upsert = db.prepare(
    `INSERT INTO policies (target_kind, target, expression, created_at, updated_at)
     VALUES (@kind, @target, @expression, @now, @now)
     ON CONFLICT (target_kind, target) DO UPDATE SET expression = excluded.expression, updated_at = excluded.updated_at`,
  )
  const remove = db.prepare('DELETE FROM policies WHERE target_kind = ? AND target = ?')
  const get = (kind: PolicyTargetKind, target: string): PolicyRow | undefined => {
    const raw = select.get(kind, target) as RawPolicyRow | undefined
    return raw === undefined ? undefined : toRow(raw)
  }
  return {
    put(kind, target, expression, now) {
      return immediate(db, () => {
        const replaced = get(kind, target) !== undefined
        upsert.run({ kind, target, expression, now })
        return { row: get(kind, target) as PolicyRow, replaced }
      })
    },
    get,
    list: () => (selectAll.all() as RawPolicyRow[]).map(toRow),
    delete: (kind, target) => remove.run(kind, target).changes > 0,
  }
}

function toRow(raw: RawPolicyRow): PolicyRow {
  return {
    kind: raw.target_kind,
    target: raw.target,
    expression: raw.expression,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  }
}
