/**
 * The project a state folder enrolled in (`project.json`, 0600, written by `enroll`): its name,
 * where to reach it, and the authority to trust. One project per state folder in this release.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OckamError } from '../errors.js'
import { isIdentifier } from '../trust/identity/identifier.js'

const ENROLLED_FILE = 'project.json'

/** The project a state folder enrolled in. */
export interface EnrolledProject {
  readonly name: string
  /** HOST:PORT of the project node, from the ticket. */
  readonly address: string
  readonly authority: string
  /** base64url of the authority's exported history. */
  readonly authorityHistory: string
  readonly enrolledAt: number
}

/** Whether the folder joined a project (the record exists; nothing read or verified). */
export function hasEnrolledProject(stateDir: string): boolean {
  return existsSync(join(stateDir, ENROLLED_FILE))
}

export function enrolledProject(stateDir: string): EnrolledProject | undefined {
  const path = join(stateDir, ENROLLED_FILE)
  if (!existsSync(path)) return undefined
  let value: Partial<EnrolledProject>
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as Partial<EnrolledProject>
  } catch (cause) {
    throw invalidRecord(path, cause)
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof value.name !== 'string' ||
    typeof value.address !== 'string' ||
    typeof value.authority !== 'string' ||
    !isIdentifier(value.authority) ||
    typeof value.authorityHistory !== 'string'
  ) {
    throw invalidRecord(path)
  }
  return value as EnrolledProject
}

function invalidRecord(path: string, cause?: unknown): OckamError {
  return new OckamError('OCKAM_ERR_PROJECT_RECORD_INVALID', `${path} is not a project record`, {
    hint: 'remove it and enroll again with a new ticket',
    ...(cause === undefined ? {} : { cause }),
  })
}

export function saveEnrolledProject(stateDir: string, project: EnrolledProject): void {
  writeFileSync(join(stateDir, ENROLLED_FILE), `${JSON.stringify(project, null, 2)}\n`, { mode: 0o600 })
}
