/**
 * A member node's revocation session (DESIGN §6, §12): the one object that keeps this node
 * subscribed to its project's `revocations` service. At start it loads the entries the state
 * database holds into the node's revoked set (so they are refused before any channel opens,
 * after a restart, and while the project is unreachable). Then, in the shared retry loop
 * (runtime/session-loop.ts): open a channel to the project, subscribe from the last stored seq
 * (the subscriber pages and resynchronizes), keep it alive with pings through the channel, and
 * when the channel closes or pings go unanswered, reconnect after a backoff with full jitter. Every stored entry — this node's or one that another node of
 * the folder stored in the same database — is enforced through the revoked set: portals reset,
 * the identity's channels closed, its later handshakes refused.
 */

import { REVOCATIONS_ADDRESS } from '../../workers/authority/constants.js'
import { revocationSubscriber } from '../../workers/authority/revocation-subscriber.js'
import { ECHO_ADDRESS } from '../../workers/echo.js'
import { local } from '../address.js'
import { createRevocationStore, type RevocationStore } from '../authority/revocation-store.js'
import { Backoff, type BackoffOptions } from '../backoff.js'
import { isOckamError, OckamError } from '../errors.js'
import { nodeTrust } from '../resources/kinds/secure-channel-trust.js'
import { keepAlive, runRetryLoop } from '../session-loop.js'
import { createReceivedRevocationRepository } from '../state/received-revocation-repository.js'
import {
  DEFAULT_PROJECT_SERVICE_BACKOFF_INITIAL_MS,
  DEFAULT_PROJECT_SERVICE_BACKOFF_MAX_MS,
  DEFAULT_PROJECT_SERVICE_CHANNEL_TIMEOUT_MS,
  DEFAULT_REVOCATION_MAX_MISSED_PINGS,
  DEFAULT_REVOCATION_PING_INTERVAL_MS,
} from './constants.js'
import type { ProjectServiceHost } from './credential-refresher.js'
import { type ProjectMembership, requireProject } from './membership.js'
import { openProjectChannel } from './project-channel.js'
import { revokedIdentities } from './revoked-identities.js'

export interface RevocationSessionOptions {
  readonly backoff?: BackoffOptions
  readonly channelTimeoutMs?: number
  readonly pingIntervalMs?: number
  readonly maxMissedPings?: number
}

export type RevocationSessionStatus = 'connecting' | 'subscribed' | 'down' | 'stopped'

export interface RevocationSessionState {
  readonly status: RevocationSessionStatus
  /** The highest seq stored for the project's authority. */
  readonly lastSeq: number
  /** Identifiers this node refuses. */
  readonly revoked: number
  /** Subscriptions made (one per connection). */
  readonly subscriptions: number
  readonly lastError?: OckamError
}

export interface RevocationSession {
  readonly state: RevocationSessionState
  /** Idempotent. */
  stop(): Promise<void>
}

let sessions = 0

function typed(error: unknown): OckamError {
  if (isOckamError(error)) {
    if (error.code === 'OCKAM_ERR_ABORTED' && isOckamError(error.cause)) return error.cause
    return error
  }
  return new OckamError('OCKAM_ERR_INTERNAL', `revocation session: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  })
}

/** Loads the persisted entries into the node's revoked set, then keeps it subscribed. */
export async function startRevocationSession(
  host: ProjectServiceHost,
  options: RevocationSessionOptions = {},
): Promise<RevocationSession> {
  const trust = await nodeTrust(host)
  const project: ProjectMembership = requireProject(host.store, trust.identities)
  const authority = project.authority.identifier
  const revoked = revokedIdentities(host.node)
  const rows = createReceivedRevocationRepository(host.store.db)
  const counters = host.node.counters
  let seen = 0
  /** Enforces every stored entry not enforced yet, whoever stored it. */
  const enforceStored = () => {
    const fresh = rows.list(authority).filter((row) => row.seq > seen)
    if (fresh.length === 0) return
    seen = fresh.at(-1)?.seq ?? seen
    revoked.revoke(fresh.map((row) => row.identifier))
  }
  enforceStored()
  host.log.info(
    { event: 'revocation.loaded', project: project.name, revoked: revoked.size, lastSeq: seen },
    `refusing ${revoked.size} revoked identit${revoked.size === 1 ? 'y' : 'ies'} of project ${project.name}`,
  )

  const inner = createRevocationStore({ db: host.store.db, authority: project.authority })
  const store: RevocationStore = {
    get authority() {
      return inner.authority
    },
    lastSeq: () => inner.lastSeq(),
    accept(entries) {
      try {
        return inner.accept(entries)
      } finally {
        enforceStored()
      }
    },
    isRevoked: (identifier) => inner.isRevoked(identifier),
    list: () => inner.list(),
    onRevoked: (listener) => inner.onRevoked(listener),
    updateAuthority: (identity) => inner.updateAuthority(identity),
  }

  const backoff = new Backoff({
    initialMs: DEFAULT_PROJECT_SERVICE_BACKOFF_INITIAL_MS,
    maxMs: DEFAULT_PROJECT_SERVICE_BACKOFF_MAX_MS,
    ...options.backoff,
  })
  const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_REVOCATION_PING_INTERVAL_MS
  const maxMisses = options.maxMissedPings ?? DEFAULT_REVOCATION_MAX_MISSED_PINGS
  const stopper = new AbortController()
  const signal = stopper.signal
  const id = ++sessions
  let state: RevocationSessionState = { status: 'connecting', lastSeq: seen, revoked: revoked.size, subscriptions: 0 }
  const update = (change: Partial<RevocationSessionState>) => {
    state = { ...state, ...change }
  }

  /** Whether the current attempt got as far as subscribing (its end is a loss, not a failed connect). */
  let subscribed = false

  /** One connection: subscribes, pings; settles (after tearing down) only by throwing why it ended. */
  const connection = async (attempt: number, cycle: AbortController): Promise<never> => {
    const { channel } = await openProjectChannel(host, {
      timeoutMs: options.channelTimeoutMs ?? DEFAULT_PROJECT_SERVICE_CHANNEL_TIMEOUT_MS,
      signal: cycle.signal,
    })
    const address = local(`revocation-subscriber-${id}-${attempt}`)
    // The first reason wins: an AbortController keeps the reason it was first aborted with.
    void channel.closed.then((info) =>
      cycle.abort(new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', `the channel to the project closed (${info.reason})`)),
    )
    const subscriber = revocationSubscriber({
      store,
      route: [channel.address, local(REVOCATIONS_ADDRESS)],
      peer: authority,
      onError: (error) => {
        counters.inc('project.revocations.subscriber_errors')
        host.log.warn(
          { event: 'revocation.subscriber.error', code: error.code },
          `revocation subscription: ${error.oneLine()}`,
        )
        // Not (or no longer) a member: reconnecting later is all that can help.
        if (error.code === 'OCKAM_ERR_AUTHORITY_ACCESS_DENIED') cycle.abort(error)
      },
    })
    try {
      await host.node.context.startWorker(address, subscriber, {
        incoming: {
          name: 'project-authority',
          allows: (message) =>
            message.local.ingress.kind === 'channel' && message.local.ingress.identifier === authority,
        },
      })
      subscribed = true
      update({ status: 'subscribed', subscriptions: state.subscriptions + 1 })
      counters.inc('project.revocations.subscribed')
      host.log.info(
        { event: 'revocation.subscribed', project: project.name, from: store.lastSeq() },
        `subscribed to the revocations of project ${project.name} from seq ${store.lastSeq()}`,
      )
      return await keepAlive({
        intervalMs: pingIntervalMs,
        maxMisses,
        signal: cycle.signal,
        ping: async (pingSignal) => {
          await host.node.context.request([channel.address, local(ECHO_ADDRESS)], new Uint8Array([0]), {
            timeoutMs: pingIntervalMs,
            signal: pingSignal,
          })
          // A connection that stayed up is a success: the next loss starts from the first ceiling.
          backoff.reset()
        },
        lost: (misses) =>
          new OckamError('OCKAM_ERR_PORTAL_PATH_LOST', `${misses} pings to the project went unanswered`),
      })
    } finally {
      await host.node.context.stopWorker(address).catch(() => {})
      await channel.close().catch(() => {})
    }
  }

  const run = async () => {
    let attempt = 0
    await runRetryLoop({
      stop: signal,
      backoff,
      attempt: (cycle) => {
        attempt++
        subscribed = false
        return connection(attempt, cycle)
      },
      onEnded: (error) => {
        const failure = typed(error)
        if (subscribed) {
          update({ status: 'down', lastError: failure })
          counters.inc('project.revocations.lost')
          host.log.warn(
            { event: 'revocation.session.down', code: failure.code },
            `revocation subscription lost: ${failure.message}`,
          )
          return
        }
        // The first failure in a row is a warning; the retries that follow are debug lines.
        const level = state.status === 'down' && state.lastError?.code === failure.code ? 'debug' : 'warn'
        update({ status: 'down', lastError: failure })
        counters.inc('project.revocations.connect_failed')
        host.log[level](
          { event: 'revocation.session.failed', code: failure.code },
          `cannot reach the project for revocations (the persisted ones stay refused): ${failure.message}`,
        )
      },
    })
    update({ status: 'stopped' })
  }

  const loop = run()
  let stopping: Promise<void> | undefined
  return {
    get state() {
      return { ...state, lastSeq: store.lastSeq(), revoked: revoked.size }
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
