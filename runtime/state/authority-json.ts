/**
 * JSON columns of the authority tables: attribute objects (text values only) and settings
 * objects. Read back strictly: a row edited outside ockam-runtime into something else is refused
 * as corrupt rather than half-trusted.
 */
import { OckamError } from '../errors.js'

export function corruptRow(table: string, what: string): OckamError {
  return new OckamError('OCKAM_ERR_STATE_RECORD_CORRUPT', `a row of ${table} has a malformed ${what}`, {
    hint: 'the state database was modified outside ockam-runtime; restore it from a backup',
    data: { table },
  })
}

/** Parses a JSON object of text values into a null-prototype record. */
export function parseAttributesJson(text: string, table: string): Record<string, string> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw corruptRow(table, 'attributes column')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corruptRow(table, 'attributes column')
  const out = Object.create(null) as Record<string, string>
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw corruptRow(table, 'attributes column')
    out[name] = item
  }
  return out
}

/** Parses a JSON object (settings, audit details). */
export function parseObjectJson(text: string, table: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw corruptRow(table, what)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corruptRow(table, what)
  return value as Record<string, unknown>
}

/** JSON text of a record, keys sorted, so equal attribute sets are equal strings. */
export function attributesJson(attributes: Readonly<Record<string, string>>): string {
  // A null prototype: an attribute named __proto__ is data, not the prototype setter.
  const sorted = Object.create(null) as Record<string, string>
  for (const name of Object.keys(attributes).sort()) sorted[name] = attributes[name] as string
  return JSON.stringify(sorted)
}
