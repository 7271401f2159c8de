/**
 * The relay service on the project node (DESIGN §7, §12). A member's node, over its own secure
 * channel to the project, registers a name; the service starts `forward_to_<name>`, which sends
 * anything it receives back along the registration's return route (through that member's
 * channel) and carries the answers back.
 *
 * Who registers is the channel ingress (identifier and attested attributes), never the message.
 * A name is granted by the injected `authorize` hook (the lead passes the authority's
 * claimRelay, which persists name → owner) and by the service's own map of live registrations:
 * another identity cannot take a live name over, and the same identity re-registering from a
 * new channel (after a reconnect) moves the registration to that channel.
 *
 * Liveness: the member's session pings; a registration without a ping for `registrationTimeoutMs`,
 * or whose channel is gone, is dropped and its worker stopped.
 *
 * `forward_to_<name>` forwards in two directions:
 * - inbound (from anyone but the owner's channel): onward `[forward_to_name, ...rest]` becomes
 *   `[...registration route, ...rest]`, return `[forward_to_name, ...return]`; the return route is
 *   remembered (bounded);
 * - answers (from the owner's channel): onward `[forward_to_name, ...route]` is forwarded only
 *   when `route` is one a message came from through this registration, so the owner cannot use
 *   the project node to reach anything else (no open proxy, no injection into other channels).
 */
import type { IncomingAccessControl } from '../../runtime/access-control.js'
import { type Address, addressKey, LOCAL, local } from '../../runtime/address.js'
import { checkRelayName } from '../../runtime/authority/relays.js'
import type { Context } from '../../runtime/context.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import { type Message, sealedLike } from '../../runtime/message.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { Route } from '../../runtime/route.js'
import type { Router } from '../../runtime/router.js'
import type { Worker } from '../../runtime/worker.js'
import { isDecryptorAddress } from '../secure-channel/constants.js'
import {
  DEFAULT_RELAY_MAX_NAMES_PER_MEMBER,
  DEFAULT_RELAY_MAX_REGISTRATIONS,
  DEFAULT_RELAY_MAX_RETURN_ROUTES,
  DEFAULT_RELAY_RATE_WINDOW_MS,
  DEFAULT_RELAY_REGISTRATION_TIMEOUT_MS,
  DEFAULT_RELAY_REGISTRATIONS_PER_WINDOW,
  DEFAULT_RELAY_SERVICE_ADDRESS,
  DEFAULT_RELAY_SWEEP_INTERVAL_MS,
  RELAY_FORWARD_PREFIX,
} from './constants.js'
import { decodeRelayRequest, encodeRelayResponse, type RelayRequest, type RelayResponse } from './protocol.js'

/** Grants `name` to `identifier` (throws a typed OckamError to refuse). The lead passes authority.claimRelay. */
export type RelayAuthorize = (name: string, identifier: string, attributes: Readonly<Record<string, string>>) => unknown

export interface RelayServiceHost {
  readonly router: Router
}

export interface RelayServiceOptions {
  readonly authorize: RelayAuthorize
  /** Default `relay`. */
  readonly address?: string
  /** Default DEFAULT_RELAY_REGISTRATION_TIMEOUT_MS. */
  readonly registrationTimeoutMs?: number
  /** Per identity: attempts per window; default DEFAULT_RELAY_REGISTRATIONS_PER_WINDOW per DEFAULT_RELAY_RATE_WINDOW_MS. */
  readonly rateLimit?: { readonly registrations: number; readonly windowMs: number }
  /** Default DEFAULT_RELAY_MAX_REGISTRATIONS. */
  readonly maxRegistrations?: number
  /** Default DEFAULT_RELAY_MAX_NAMES_PER_MEMBER. */
  readonly maxNamesPerMember?: number
  /** Default DEFAULT_RELAY_MAX_RETURN_ROUTES. */
  readonly maxReturnRoutes?: number
  /** Clock in ms (tests); default Date.now. */
  readonly now?: () => number
  /** Called when a registration is dropped (timeout, channel gone, unregistered, replaced). */
  readonly onDropped?: (name: string, reason: RelayDropReason) => void
}

export type RelayDropReason = 'timeout' | 'channel-closed' | 'unregistered' | 'stopped'

export interface RelayRegistrationInfo {
  readonly name: string
  readonly forwardAddress: string
  readonly identifier: string
  /** The project-side encryptor of the owner's channel. */
  readonly channel: string
  readonly registeredAt: number
  readonly lastSeen: number
}

export interface RelayService {
  readonly address: Address
  registrations(): RelayRegistrationInfo[]
  /** Drops a registration now (for `relay delete` by an admin); false if there was none. */
  drop(name: string): Promise<boolean>
  stop(): Promise<void>
}

interface Registration {
  readonly name: string
  readonly forward: Address
  readonly identifier: string
  channel: string
  route: Route
  readonly registeredAt: number
  lastSeen: number
  /** Route keys of the return routes seen inbound, oldest first (a Map keeps insertion order). */
  readonly returns: Map<string, true>
}

/** Only messages out of a secure channel: the requester's identity comes from there. */
const channelOnly: IncomingAccessControl = {
  name: 'relay-service',
  allows: (message) => message.local.ingress.kind === 'channel',
}

/** `forward_to_` accepts anyone who can reach the project node, but not another relay's output. */
const forwardIncoming: IncomingAccessControl = {
  name: 'relay-forward',
  // Channel frames passed through the member's channel to the project ride on, still sealed.
  acceptsSealed: true,
  allows: (message) => message.local.ingress.kind !== 'relay',
}

function routeKey(route: Route): string {
  return route.map(addressKey).join('\u0000')
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', `${what} must be a positive integer, got ${resolved}`)
  }
  return resolved
}

export async function startRelayService(host: RelayServiceHost, options: RelayServiceOptions): Promise<RelayService> {
  if (typeof options?.authorize !== 'function') {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'the relay service needs an authorize hook')
  }
  const { router } = host
  const counters = router.counters
  const log = new RateLimitedLog(router.log)
  const address = local(options.address ?? DEFAULT_RELAY_SERVICE_ADDRESS)
  const timeoutMs = positive(
    options.registrationTimeoutMs,
    DEFAULT_RELAY_REGISTRATION_TIMEOUT_MS,
    'registrationTimeoutMs',
  )
  const perWindow = positive(
    options.rateLimit?.registrations,
    DEFAULT_RELAY_REGISTRATIONS_PER_WINDOW,
    'rateLimit.registrations',
  )
  const windowMs = positive(options.rateLimit?.windowMs, DEFAULT_RELAY_RATE_WINDOW_MS, 'rateLimit.windowMs')
  const maxRegistrations = positive(options.maxRegistrations, DEFAULT_RELAY_MAX_REGISTRATIONS, 'maxRegistrations')
  const maxNames = positive(options.maxNamesPerMember, DEFAULT_RELAY_MAX_NAMES_PER_MEMBER, 'maxNamesPerMember')
  const maxReturns = positive(options.maxReturnRoutes, DEFAULT_RELAY_MAX_RETURN_ROUTES, 'maxReturnRoutes')
  const now = options.now ?? Date.now
  const registrations = new Map<string, Registration>()
  /** Per identity: times of recent registration attempts (at most `perWindow` kept). */
  const attempts = new Map<string, number[]>()
  let sweeper: NodeJS.Timeout | undefined

  const drop = async (registration: Registration, reason: RelayDropReason): Promise<void> => {
    if (registrations.get(registration.name) !== registration) return
    registrations.delete(registration.name)
    counters.inc(`relay.dropped.${reason}`)
    router.log.info(
      { event: 'relay.dropped', relay: registration.name, reason, owner: registration.identifier },
      `relay ${registration.name} dropped (${reason})`,
    )
    options.onDropped?.(registration.name, reason)
    await router.stopWorker(registration.forward)
  }

  const sweep = (): void => {
    const cutoff = now() - timeoutMs
    for (const registration of registrations.values()) {
      if (!router.hasWorker(local(registration.channel))) void drop(registration, 'channel-closed')
      else if (registration.lastSeen < cutoff) void drop(registration, 'timeout')
    }
    for (const [identifier, times] of attempts) {
      if ((times.at(-1) ?? 0) <= now() - windowMs) attempts.delete(identifier)
    }
  }

  const rateLimit = (identifier: string): void => {
    const t = now()
    const recent = (attempts.get(identifier) ?? []).filter((at) => at > t - windowMs)
    if (recent.length >= perWindow) {
      attempts.set(identifier, recent)
      counters.inc('relay.rate_limited')
      throw new OckamError(
        'OCKAM_ERR_RELAY_RATE_LIMITED',
        `at most ${perWindow} relay registrations per ${windowMs} ms per identity`,
        { hint: 'wait and try again; a relay session retries by itself with backoff' },
      )
    }
    recent.push(t)
    attempts.set(identifier, recent)
  }

  const notRegistered = (name: string): OckamError =>
    new OckamError('OCKAM_ERR_RELAY_NOT_REGISTERED', `relay ${name} is not registered through this channel`, {
      hint: 'register it again (a relay session does so by itself)',
    })

  const register = async (
    request: RelayRequest,
    message: Message,
    identifier: string,
    attributes: Readonly<Record<string, string>>,
    channel: string,
  ): Promise<Registration> => {
    const name = request.name
    checkRelayName(name)
    rateLimit(identifier)
    // The hook first: who may not have the name learns nothing about whether it is live.
    await options.authorize(name, identifier, attributes)
    const existing = registrations.get(name)
    if (existing !== undefined && existing.identifier !== identifier) {
      counters.inc('relay.takeover_refused')
      throw new OckamError('OCKAM_ERR_RELAY_NAME_TAKEN', `relay name ${name} belongs to another identity`, {
        hint: 'choose another name, or ask a project admin to release it',
        data: { relay: name },
      })
    }
    if (existing === undefined) {
      if (registrations.size >= maxRegistrations) {
        throw new OckamError('OCKAM_ERR_RELAY_CAPACITY', `the relay service holds ${maxRegistrations} registrations`)
      }
      let held = 0
      for (const r of registrations.values()) if (r.identifier === identifier) held++
      if (held >= maxNames) {
        throw new OckamError('OCKAM_ERR_RELAY_CAPACITY', `an identity may hold at most ${maxNames} relays at once`, {
          hint: 'delete a relay you no longer need',
        })
      }
    }
    const route = message.return
    // [owner's channel, receiver on the member node]: with only the channel, deliveries would
    // come out on the member node with the project's channel identity instead of relay ingress.
    if (route.length < 2 || route[0]?.value !== channel) {
      throw new OckamError(
        'OCKAM_ERR_RELAY_MESSAGE_INVALID',
        'a registration must come from a receiver beyond the channel',
        {
          hint: 'register with a relay session (workers/relay/session.ts)',
        },
      )
    }
    const current = registrations.get(name)
    if (current !== undefined) {
      // The owner came back on a new channel (or re-registered on the same one): move it there.
      if (current.identifier !== identifier) throw notRegistered(name)
      current.channel = channel
      current.route = route
      current.lastSeen = now()
      current.returns.clear()
      return current
    }
    const registration: Registration = {
      name,
      forward: local(`${RELAY_FORWARD_PREFIX}${name}`),
      identifier,
      channel,
      route,
      registeredAt: now(),
      lastSeen: now(),
      returns: new Map(),
    }
    registrations.set(name, registration)
    try {
      await router.startWorker([registration.forward], forwardWorker(registration), { incoming: forwardIncoming })
    } catch (error) {
      registrations.delete(name)
      throw error
    }
    counters.inc('relay.registered')
    router.log.info(
      { event: 'relay.registered', relay: name, owner: identifier },
      `relay ${name} registered by ${identifier}`,
    )
    return registration
  }

  const forwardWorker = (registration: Registration): Worker => ({
    async handleMessage(ctx, message) {
      if (registrations.get(registration.name) !== registration) return
      const ingress = message.local.ingress
      const rest = message.onward.slice(1)
      const self = ctx.address
      if (ingress.kind === 'channel' && ingress.channel === registration.channel) {
        // The owner answers: only along a route that came in through this registration.
        const key = routeKey(rest)
        if (rest.length === 0 || rest[0]?.type !== LOCAL || !registration.returns.has(key)) {
          counters.inc('relay.forward.answer_refused')
          throw new OckamError(
            'OCKAM_ERR_RELAY_DESTINATION_REFUSED',
            `${addressKey(self)} only carries answers back along routes that came through it`,
          )
        }
        const back = message.return[0]
        const ret = back !== undefined && back.value === registration.channel ? message.return.slice(1) : message.return
        counters.inc('relay.forward.answers')
        await ctx.forward({
          onward: rest,
          return: [self, ...ret],
          payload: message.payload,
          local: sealedLike(message.local, { ingress, forwardedBy: self.value }),
        })
        return
      }
      if (rest.length === 0) {
        // Nothing to deliver to: refused, so nothing from outside can look like a service response.
        counters.inc('relay.forward.empty')
        return
      }
      // A frame passed through a member channel is an end-to-end channel's frame: it goes to that
      // channel's decryptor and nowhere else (not the owner's listener, whatever the owner's
      // channel does with passthrough).
      if (message.local.passedThrough === true && !(rest.length === 1 && isDecryptorAddress(rest[0]))) {
        counters.inc('relay.forward.passthrough_refused')
        throw new OckamError(
          'OCKAM_ERR_RELAY_DESTINATION_REFUSED',
          `${addressKey(self)} takes a passed-through frame only for an end-to-end channel's decryptor`,
        )
      }
      const key = routeKey(message.return)
      registration.returns.delete(key)
      registration.returns.set(key, true)
      if (registration.returns.size > maxReturns) {
        const oldest = registration.returns.keys().next().value
        if (oldest !== undefined) registration.returns.delete(oldest)
      }
      counters.inc('relay.forward.inbound')
      try {
        await ctx.forward({
          onward: [...registration.route, ...rest],
          return: [self, ...message.return],
          payload: message.payload,
          local: sealedLike(message.local, { ingress, forwardedBy: self.value }),
        })
      } catch (error) {
        // The owner's channel is gone: no need to wait for the sweep.
        if (isOckamError(error, 'OCKAM_ERR_ROUTER_NO_WORKER')) void drop(registration, 'channel-closed')
        throw error
      }
    },
  })

  const respond = async (ctx: Context, message: Message, response: RelayResponse): Promise<void> => {
    try {
      await ctx.reply(message, encodeRelayResponse(response))
    } catch (error) {
      if (!isOckamError(error)) throw error
      counters.inc('relay.reply_failed')
    }
  }

  const worker: Worker = {
    initialize() {
      sweeper = setInterval(sweep, Math.max(10, Math.min(DEFAULT_RELAY_SWEEP_INTERVAL_MS, Math.floor(timeoutMs / 4))))
      sweeper.unref()
    },
    async handleMessage(ctx, message) {
      const ingress = message.local.ingress
      if (ingress.kind !== 'channel') return
      let request: RelayRequest
      try {
        request = decodeRelayRequest(message.payload)
      } catch (error) {
        counters.inc('relay.malformed')
        log.warn('malformed', { err: error }, 'relay service dropped a malformed request')
        return
      }
      const { id } = request
      try {
        let registration: Registration | undefined
        if (request.kind === 'register') {
          registration = await register(request, message, ingress.identifier, ingress.attributes, ingress.channel)
        } else {
          registration = registrations.get(request.name)
          if (
            registration === undefined ||
            registration.channel !== ingress.channel ||
            registration.identifier !== ingress.identifier
          ) {
            throw notRegistered(request.name)
          }
          if (request.kind === 'ping') {
            registration.lastSeen = now()
            counters.inc('relay.pings')
          } else {
            await drop(registration, 'unregistered')
          }
        }
        await respond(ctx, message, { ok: true, id, forwardAddress: registration.forward.value, timeoutMs })
      } catch (error) {
        const failure = isOckamError(error)
          ? error
          : new OckamError('OCKAM_ERR_INTERNAL', 'the relay service failed', { cause: error })
        counters.inc(`relay.refused.${failure.code}`)
        log.warn(
          `refused:${failure.code}`,
          { code: failure.code, relay: request.name.slice(0, 80), requester: ingress.identifier },
          `relay ${request.kind} refused: ${failure.message}`,
        )
        await respond(ctx, message, { ok: false, id, error: failure })
      }
    },
    async shutdown() {
      clearInterval(sweeper)
      await Promise.all([...registrations.values()].map((r) => drop(r, 'stopped')))
    },
  }
  await router.startWorker([address], worker, { incoming: channelOnly })
  return {
    address,
    registrations: () =>
      [...registrations.values()].map((r) => ({
        name: r.name,
        forwardAddress: r.forward.value,
        identifier: r.identifier,
        channel: r.channel,
        registeredAt: r.registeredAt,
        lastSeen: r.lastSeen,
      })),
    async drop(name) {
      const registration = registrations.get(name)
      if (registration === undefined) return false
      await drop(registration, 'unregistered')
      return true
    },
    stop: () => router.stopWorker(address),
  }
}
