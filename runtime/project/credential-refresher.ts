/**
 * Renewal of a member node's credential (DESIGN §6, §12): the node's identity holds one
 * credential from the project's authority (held_credentials, written by `enroll`); before it is
 * `renewFraction` through its lifetime the refresher opens a channel to the project, asks the
 * `credentials` service for a fresh one, verifies it against the authority and stores it. Open
 * channels read the stored credential when their own half-life refresh comes, so they present
 * the new one without being told. While the project is unreachable it retries with backoff and
 * full jitter; a refusal that retrying cannot fix (the identity was deleted or revoked) ends it
 * with a logged error, and the credential lapses at its expiry.
 *
 * Several nodes of one state folder each run one; the schedule is read from the stored
 * credential every time, so a credential another node renewed is not renewed again.
 */

import { requestCredential } from '../../workers/authority/client.js'
import { CREDENTIALS_ADDRESS } from '../../workers/authority/constants.js'
import { local } from '../address.js'
import { Backoff, type BackoffOptions, sleep } from '../backoff.js'
import { isOckamError, OckamError } from '../errors.js'
import type { Logger } from '../log.js'
import type { OckamNode } from '../node.js'
import { nodeTrust } from '../resources/kinds/secure-channel-trust.js'
import { createHeldCredentialRepository } from '../state/held-credential-repository.js'
import type { StateStore } from '../state/store.js'
import { verifyCredential } from '../trust/credentials/credential.js'
import { createNativeCryptoProvider } from '../trust/crypto/native.js'
import { nowSeconds } from '../trust/identity/validity.js'
import {
  DEFAULT_CREDENTIAL_RENEW_FRACTION,
  DEFAULT_CREDENTIAL_REQUEST_TIMEOUT_MS,
  DEFAULT_PROJECT_SERVICE_BACKOFF_INITIAL_MS,
  DEFAULT_PROJECT_SERVICE_BACKOFF_MAX_MS,
  DEFAULT_PROJECT_SERVICE_CHANNEL_TIMEOUT_MS,
  MIN_CREDENTIAL_RENEW_DELAY_MS,
} from './constants.js'
import { requireProject } from './membership.js'
import { openProjectChannel } from './project-channel.js'

/** Longest single wait (ms): setTimeout overflows past 2^31-1. */
const MAX_WAIT_MS = 2 ** 31 - 1

/** Answers after which asking again cannot help. */
const FINAL = new Set<string>([
  'OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND',
  'OCKAM_ERR_AUTHORITY_IDENTITY_REVOKED',
  'OCKAM_ERR_AUTHORITY_ACCESS_DENIED',
  'OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER',
  'OCKAM_ERR_PROJECT_NONE',
])

export interface ProjectServiceHost {
  readonly node: OckamNode
  readonly store: StateStore
  readonly log: Logger
}

export interface CredentialRefresherOptions {
  /** Named identity whose credential is renewed; default the node's. */
  readonly identity?: string | undefined
  /** Default DEFAULT_CREDENTIAL_RENEW_FRACTION. */
  readonly renewFraction?: number
  readonly backoff?: BackoffOptions
  readonly channelTimeoutMs?: number
  readonly requestTimeoutMs?: number
}

export type CredentialRefresherStatus = 'waiting' | 'renewing' | 'retrying' | 'stopped'

export interface CredentialRefresherState {
  readonly status: CredentialRefresherStatus
  /** Successful renewals since start. */
  readonly renewals: number
  readonly failures: number
  /** Unix seconds at which the stored credential expires, once known. */
  readonly expires?: number
  readonly lastError?: OckamError
}

export interface CredentialRefresher {
  readonly state: CredentialRefresherState
  /** Idempotent. */
  stop(): Promise<void>
}

function typed(error: unknown): OckamError {
  if (isOckamError(error)) {
    if (error.code === 'OCKAM_ERR_ABORTED' && isOckamError(error.cause)) return error.cause
    return error
  }
  return new OckamError('OCKAM_ERR_INTERNAL', `credential renewal: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  })
}

export function startCredentialRefresher(
  host: ProjectServiceHost,
  options: CredentialRefresherOptions = {},
): CredentialRefresher {
  const fraction = options.renewFraction ?? DEFAULT_CREDENTIAL_RENEW_FRACTION
  if (!(fraction > 0 && fraction < 1)) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `renewFraction must be between 0 and 1, got ${fraction}`)
  }
  const backoff = new Backoff({
    initialMs: DEFAULT_PROJECT_SERVICE_BACKOFF_INITIAL_MS,
    maxMs: DEFAULT_PROJECT_SERVICE_BACKOFF_MAX_MS,
    ...options.backoff,
  })
  const held = createHeldCredentialRepository(host.store.db)
  const crypto = createNativeCryptoProvider()
  const stopper = new AbortController()
  const signal = stopper.signal
  const counters = host.node.counters
  let state: CredentialRefresherState = { status: 'waiting', renewals: 0, failures: 0 }
  const update = (change: Partial<CredentialRefresherState>) => {
    state = { ...state, ...change }
  }

  const renew = async (): Promise<number> => {
    const trust = await nodeTrust(host)
    const project = requireProject(host.store, trust.identities)
    const material = await trust.material(options.identity)
    const { channel } = await openProjectChannel(host, {
      identity: options.identity,
      timeoutMs: options.channelTimeoutMs ?? DEFAULT_PROJECT_SERVICE_CHANNEL_TIMEOUT_MS,
      signal,
    })
    try {
      const presentation = await requestCredential(
        host.node.context,
        [channel.address, local(CREDENTIALS_ADDRESS)],
        material.identity.history,
        { timeoutMs: options.requestTimeoutMs ?? DEFAULT_CREDENTIAL_REQUEST_TIMEOUT_MS, signal },
      )
      const credential = verifyCredential(
        presentation,
        {
          authorities: [project.authority],
          subject: { identifier: material.identity.identifier, latestChangeHash: material.identity.latestChangeHash },
          now: nowSeconds(),
        },
        crypto,
      )
      held.put({
        subject: credential.subject,
        issuer: credential.issuer,
        presentation,
        validFrom: credential.created,
        validUntil: credential.expires,
        storedAt: Date.now(),
      })
      return credential.expires
    } finally {
      await channel.close().catch(() => {})
    }
  }

  /** Ms until the stored credential is due for renewal (0: now). */
  const dueInMs = async (): Promise<number> => {
    const trust = await nodeTrust(host)
    const project = requireProject(host.store, trust.identities)
    const material = await trust.material(options.identity)
    const row = held.get(material.identity.identifier, project.authority.identifier)
    if (row === undefined) return 0
    update({ expires: row.validUntil })
    // From when this node stored it, by its own clock: a clock ahead of the authority's would
    // otherwise find every fresh credential already due and renew once a second.
    const dueAt = row.storedAt + fraction * (row.validUntil - row.validFrom) * 1000
    return Math.max(0, dueAt - Date.now())
  }

  const run = async (): Promise<void> => {
    let renewedAt = 0
    while (!signal.aborted) {
      try {
        let wait = await dueInMs()
        // Never renew twice within a moment, whatever the clocks say.
        wait = Math.max(wait, renewedAt + MIN_CREDENTIAL_RENEW_DELAY_MS - Date.now())
        if (wait > 0) {
          update({ status: 'waiting' })
          await sleep(Math.min(wait, MAX_WAIT_MS), signal)
          // Read again: another node of the folder may have renewed it meanwhile.
          continue
        }
        update({ status: 'renewing' })
        const expires = await renew()
        renewedAt = Date.now()
        backoff.reset()
        counters.inc('project.credential.renewed')
        update({ renewals: state.renewals + 1, expires })
        host.log.info(
          { event: 'credential.renewed', expires },
          `renewed the project credential; it expires at ${new Date(expires * 1000).toISOString()}`,
        )
      } catch (error) {
        if (signal.aborted) break
        const failure = typed(error)
        counters.inc('project.credential.renew_failed')
        update({ failures: state.failures + 1 })
        if (FINAL.has(failure.code)) {
          update({ lastError: failure })
          host.log.error(
            { event: 'credential.renewal.stopped', code: failure.code, expires: state.expires },
            `stopped renewing the project credential: ${failure.oneLine()}`,
          )
          break
        }
        const level = state.status === 'retrying' && state.lastError?.code === failure.code ? 'debug' : 'warn'
        update({ status: 'retrying', lastError: failure })
        const delay = backoff.next()
        host.log[level](
          { event: 'credential.renewal.failed', code: failure.code, retryInMs: delay },
          `could not renew the project credential (${failure.message}); retrying in ${delay} ms`,
        )
        await sleep(delay, signal).catch(() => {})
      }
    }
    update({ status: 'stopped' })
  }

  const loop = run()
  let stopping: Promise<void> | undefined
  return {
    get state() {
      return state
    },
    stop() {
      stopping ??= (async () => {
        stopper.abort()
        await loop
      })()
      return stopping
    },
  }
}
