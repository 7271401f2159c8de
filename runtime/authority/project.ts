/** Project names, advertised addresses and settings: checked when given and when read back. */
import { OckamError } from '../errors.js'
import {
  DEFAULT_MEMBER_CREDENTIAL_TTL_SECONDS,
  MAX_ADVERTISED_ADDRESS_CHARS,
  MAX_MEMBER_CREDENTIAL_TTL_SECONDS,
  MIN_MEMBER_CREDENTIAL_TTL_SECONDS,
  PROJECT_NAME_PATTERN,
} from './constants.js'

export interface ProjectSettings {
  /** Lifetime of member credentials, seconds. */
  readonly credentialTtlSeconds: number
  /**
   * Whether member channels to the project node pass end-to-end frames through without sealing
   * them again (docs/secure-channels.md). False hides relay names, sizes and timing from
   * observers of member connections, at the cost of two more AEADs per frame (THREATS.md).
   */
  readonly passthrough: boolean
}

export const DEFAULT_PROJECT_SETTINGS: ProjectSettings = Object.freeze({
  credentialTtlSeconds: DEFAULT_MEMBER_CREDENTIAL_TTL_SECONDS,
  passthrough: true,
})

/** Throws OCKAM_ERR_AUTHORITY_PROJECT_NAME_INVALID unless `name` is `[a-z0-9][a-z0-9-]{0,62}`. */
export function checkProjectName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !PROJECT_NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name
    throw new OckamError('OCKAM_ERR_AUTHORITY_PROJECT_NAME_INVALID', `${shown} is not a valid project name`, {
      hint: 'use 1 to 63 characters of a-z, 0-9 and -, starting with a letter or digit',
    })
  }
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/
const PORT = /^[1-9][0-9]{0,4}$/
const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]'])

/**
 * Throws OCKAM_ERR_AUTHORITY_ADDRESS_INVALID unless `text` is HOST:PORT that another machine
 * could dial: a DNS name, an IPv4 address or a bracketed IPv6 address, and a port 1-65535 without
 * leading zeros. The unspecified addresses (0.0.0.0, [::]) are refused: they are what a project
 * listens on, never what it is reached at.
 */
export function checkAdvertisedAddress(text: unknown): asserts text is string {
  const invalid = (why: string) =>
    new OckamError('OCKAM_ERR_AUTHORITY_ADDRESS_INVALID', `advertised address: ${why}`, {
      hint: 'give the HOST:PORT other machines reach the project at, e.g. --advertise project.example.com:4000',
    })
  if (typeof text !== 'string' || text.length < 3 || text.length > MAX_ADVERTISED_ADDRESS_CHARS) {
    throw invalid(`must be 3 to ${MAX_ADVERTISED_ADDRESS_CHARS} characters`)
  }
  const colon = text.lastIndexOf(':')
  const host = text.slice(0, colon)
  const port = text.slice(colon + 1)
  if (colon <= 0 || !PORT.test(port) || Number(port) > 65535)
    throw invalid(`${JSON.stringify(text)} has no port 1-65535`)
  const bracketed = host.startsWith('[') && host.endsWith(']')
  const validHost = bracketed ? IPV6.test(host.slice(1, -1)) && host.includes(':') : HOSTNAME.test(host)
  if (!validHost) throw invalid(`${JSON.stringify(host)} is not a host name or address (IPv6 goes in brackets)`)
  if (UNSPECIFIED.has(host) || /^\[(0*:)+0*\]$/.test(host)) throw invalid(`${host} is the unspecified address`)
}

/** Validates settings given at creation (unknown names refused); missing ones take defaults. */
export function checkProjectSettings(input: unknown): ProjectSettings {
  if (input === undefined) return DEFAULT_PROJECT_SETTINGS
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidSettings('not an object')
  const settings = { ...DEFAULT_PROJECT_SETTINGS }
  for (const [name, value] of Object.entries(input)) {
    if (name === 'passthrough') {
      if (typeof value !== 'boolean') throw invalidSettings('passthrough must be true or false')
      settings.passthrough = value
      continue
    }
    if (name !== 'credentialTtlSeconds') throw invalidSettings(`unknown setting ${JSON.stringify(name)}`)
    if (
      typeof value !== 'number' ||
      !Number.isSafeInteger(value) ||
      value < MIN_MEMBER_CREDENTIAL_TTL_SECONDS ||
      value > MAX_MEMBER_CREDENTIAL_TTL_SECONDS
    ) {
      throw invalidSettings(
        `credentialTtlSeconds must be ${MIN_MEMBER_CREDENTIAL_TTL_SECONDS} to ${MAX_MEMBER_CREDENTIAL_TTL_SECONDS}`,
      )
    }
    settings.credentialTtlSeconds = value
  }
  return Object.freeze(settings)
}

function invalidSettings(why: string): OckamError {
  return new OckamError('OCKAM_ERR_AUTHORITY_SETTINGS_INVALID', `project settings: ${why}`, {
    hint: `the settings are credentialTtlSeconds (${MIN_MEMBER_CREDENTIAL_TTL_SECONDS} to ${MAX_MEMBER_CREDENTIAL_TTL_SECONDS}) and passthrough (true or false)`,
  })
}
