/** The `authority_relay_owners` table (migration 4): relay name -> the identity that owns it. */
import type { Database } from 'better-sqlite3'

export interface RelayOwnerRow {
  readonly name: string
  readonly owner: string
  /** Unix ms. */
  readonly claimedAt: number
}

export interface RelayOwnerRepository {
  get(name: string): RelayOwnerRow | undefined
  /**
   * Records `owner` for `name` unless the name has an owner already (one INSERT … ON CONFLICT
   * DO NOTHING, so two claimants racing cannot both win). Returns the row now stored.
   */
  claim(name: string, owner: string, now: number): RelayOwnerRow
  release(name: string): boolean
  /** Releases every name of `owner`; returns them. */
  releaseAllOf(owner: string): string[]
  /** By name. */
  list(): RelayOwnerRow[]
}

interface RawRelayOwnerRow {
  name: string
  owner: string
  claimed_at: number
}

export function createRelayOwnerRepository(db: Database): RelayOwnerRepository {
  const select = db.prepare('SELECT * FROM authority_relay_owners WHERE name = ?')
  const insert = db.prepare(
    'INSERT INTO authority_relay_owners (name, owner, claimed_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
  )
  const remove = db.prepare('DELETE FROM authority_relay_owners WHERE name = ?')
  const removeOf = db.prepare('DELETE FROM authority_relay_owners WHERE owner = ? RETURNING name')
  const selectAll = db.prepare('SELECT * FROM authority_relay_owners ORDER BY name')
  const get = (name: string): RelayOwnerRow | undefined => {
    const raw = select.get(name) as RawRelayOwnerRow | undefined
    return raw === undefined ? undefined : toRow(raw)
  }
  return {
    get,
    claim(name, owner, now) {
      insert.run(name, owner, now)
      return get(name) as RelayOwnerRow
    },
    release: (name) => remove.run(name).changes > 0,
    releaseAllOf: (owner) => (removeOf.all(owner) as Array<{ name: string }>).map((row) => row.name).sort(),
    list: () => (selectAll.all() as RawRelayOwnerRow[]).map(toRow),
  }
}

function toRow(raw: RawRelayOwnerRow): RelayOwnerRow {
  return { name: raw.name, owner: raw.owner, claimedAt: raw.claimed_at }
}
