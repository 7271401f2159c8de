/**
 * Where the vault passphrase comes from, in order: the `passphrase` option, then
 * OCKAM_RUNTIME_VAULT_PASSPHRASE, then the file named by OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE.
 * A variable that is set but empty is an error, not "no passphrase": silently creating an
 * unprotected vault is the failure that matters.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { OckamError } from '../../errors.js'
import { MAX_VAULT_PASSPHRASE_BYTES, VAULT_PASSPHRASE_ENV, VAULT_PASSPHRASE_FILE_ENV } from './constants.js'

export type PassphraseEnv = Readonly<Record<string, string | undefined>>

export interface PassphraseSources {
  readonly passphrase?: string | undefined
  readonly env?: PassphraseEnv | undefined
}

/** The passphrase, NFC-normalized, or undefined when no source provides one. */
export function resolvePassphrase(sources: PassphraseSources): string | undefined {
  if (sources.passphrase !== undefined) return checked(sources.passphrase, 'the passphrase option')
  const env = sources.env ?? process.env
  const fromEnv = env[VAULT_PASSPHRASE_ENV]
  if (fromEnv !== undefined) return checked(fromEnv, VAULT_PASSPHRASE_ENV)
  const file = env[VAULT_PASSPHRASE_FILE_ENV]
  if (file !== undefined) return checked(readPassphraseFile(file), `the file ${file} (${VAULT_PASSPHRASE_FILE_ENV})`)
  return undefined
}

/** Picks out the two variables, to hand to the vault's thread. */
export function passphraseEnv(env: PassphraseEnv): PassphraseEnv {
  const out: Record<string, string> = {}
  for (const name of [VAULT_PASSPHRASE_ENV, VAULT_PASSPHRASE_FILE_ENV]) {
    const value = env[name]
    if (value !== undefined) out[name] = value
  }
  return out
}

function checked(passphrase: string, source: string): string {
  const normalized = passphrase.normalize('NFC')
  if (normalized.length === 0) {
    throw new OckamError('OCKAM_ERR_VAULT_PASSPHRASE_INVALID', `the vault passphrase from ${source} is empty`, {
      hint: `give a non-empty passphrase, or unset ${VAULT_PASSPHRASE_ENV} and ${VAULT_PASSPHRASE_FILE_ENV} for a vault without one`,
    })
  }
  if (Buffer.byteLength(normalized, 'utf8') > MAX_VAULT_PASSPHRASE_BYTES) {
    throw new OckamError('OCKAM_ERR_VAULT_PASSPHRASE_INVALID', `the vault passphrase from ${source} is too long`, {
      hint: `use at most ${MAX_VAULT_PASSPHRASE_BYTES} bytes`,
    })
  }
  return normalized
}

function readPassphraseFile(path: string): string {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file')
    // Room for the limit, a CRLF and one byte more: an oversize file is detected without reading it all.
    const buffer = Buffer.alloc(MAX_VAULT_PASSPHRASE_BYTES + 3)
    const length = readSync(fd, buffer, 0, buffer.length, 0)
    const text = buffer.subarray(0, length).toString('utf8')
    buffer.fill(0)
    return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text
  } catch (cause) {
    throw new OckamError('OCKAM_ERR_VAULT_PASSPHRASE_INVALID', `cannot read the vault passphrase file ${path}`, {
      cause,
      hint: `check ${VAULT_PASSPHRASE_FILE_ENV} names a readable file`,
      data: { path },
    })
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
