/**
 * How many identities the state folder holds, for `status`: one indexed count when the
 * identities table exists (it comes with the identities migration), null before that.
 */
import type { Database } from 'better-sqlite3'

export function countIdentities(db: Database): number | null {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'identities'").get()
  if (table === undefined) return null
  return db.prepare('SELECT COUNT(*) FROM identities').pluck().get() as number
}
