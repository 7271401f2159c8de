/**
 * The member side of a relay registration: one worker, the end of the registration's route on
 * the member node. It sends the session's requests to the relay service through the project
 * channel (so the service answers to it) and is where everything sent to `forward_to_<name>`
 * arrives.
 *
 * What arrives through the registration is re-stamped with `relay` ingress — no identity, not
 * the project's (whose channel carried it) nor anyone else's (DESIGN §12) — and is delivered only
 * to the secure-channel listener or to the decryptor of a channel that was opened through this
 * registration (learned from the return routes of that channel's own frames leaving through
 * here). Anything else is refused here, before any service sees it; the router's rule that only
 * access controls naming `relay` accept relay ingress (runtime/access-control.ts) is the second
 * line.
 *
 * Frames going back (relay ingress of this registration) go only into the project channel.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingAccessControl } from '../../runtime/access-control.js'
import { type Address, addressKey, LOCAL, local } from '../../runtime/address.js'
import type { Context } from '../../runtime/context.js'
import { abortError, OckamError, throwIfAborted } from '../../runtime/errors.js'
import { type Ingress, sealedLike } from '../../runtime/message.js'
import type { Router } from '../../runtime/router.js'
import {
  DEFAULT_RELAY_LISTENER_ADDRESS,
  DEFAULT_RELAY_MAX_CHANNELS,
  DEFAULT_RELAY_SERVICE_ADDRESS,
  RELAY_REQUEST_ID_BYTES,
} from './constants.js'
import { decodeRelayResponse, encodeRelayRequest, type RelayRequestKind, type RelayResponse } from './protocol.js'

export interface RelayReceiverOptions {
  readonly name: string
  /** This node's encryptor address (value) of the secure channel to the project. */
  readonly channel: string
  /** The relay service's address on the project node; default `relay`. */
  readonly serviceAddress?: string
  /** The secure-channel listener deliveries may reach; default `api`. */
  readonly listenerAddress?: string
  /** Default DEFAULT_RELAY_MAX_CHANNELS. */
  readonly maxChannels?: number
}

export type RelayOk = Extract<RelayResponse, { ok: true }>

export interface RelayReceiver {
  readonly address: Address
  /** Sends one request to the relay service and waits for its answer; rejects with the service's typed error. */
  request(kind: RelayRequestKind, options: { timeoutMs: number; signal?: AbortSignal }): Promise<RelayOk>
  stop(): Promise<void>
}

interface Pending {
  settle(outcome: RelayResponse | OckamError): void
}

export async function startRelayReceiver(router: Router, options: RelayReceiverOptions): Promise<RelayReceiver> {
  const { name, channel } = options
  const counters = router.counters
  const channelAddress = local(channel)
  const service = local(options.serviceAddress ?? DEFAULT_RELAY_SERVICE_ADDRESS)
  const listener = options.listenerAddress ?? DEFAULT_RELAY_LISTENER_ADDRESS
  const maxChannels = options.maxChannels ?? DEFAULT_RELAY_MAX_CHANNELS
  const address = local(`relay-${name}-${randomBytes(4).toString('hex')}`)
  const relayIngress: Ingress = Object.freeze({ kind: 'relay', registration: name })
  /** Decryptors of channels opened through this registration, oldest first. */
  const channels = new Map<string, true>()
  const pending = new Map<string, Pending>()
  let context: Context | undefined

  const incoming: IncomingAccessControl = {
    name: `relay-receiver:${name}`,
    // Frames of channels opened through the registration, passed through the project channel.
    acceptsSealed: true,
    allows(message) {
      const ingress = message.local.ingress
      if (ingress.kind === 'channel') return ingress.channel === channel
      return ingress.kind === 'relay' && ingress.registration === name
    },
  }

  const refuse = (to: string): never => {
    counters.inc('relay.receiver.refused')
    throw new OckamError(
      'OCKAM_ERR_RELAY_DESTINATION_REFUSED',
      `relay ${name} delivers only to the secure-channel listener ${listener}, not to ${to}`,
      { hint: 'reach services on this node through an end-to-end secure channel opened via the relay' },
    )
  }

  const learn = (decryptor: Address | undefined): void => {
    if (decryptor === undefined || decryptor.type !== LOCAL || !router.hasWorker(decryptor)) return
    channels.delete(decryptor.value)
    channels.set(decryptor.value, true)
    if (channels.size > maxChannels) {
      const oldest = channels.keys().next().value
      if (oldest !== undefined) channels.delete(oldest)
    }
  }

  context = await router.startWorker(
    [address],
    {
      async handleMessage(ctx, message) {
        const ingress = message.local.ingress
        if (ingress.kind === 'channel') {
          if (message.onward.length === 1) {
            // The service answers sealed by the project channel, never passed through.
            if (message.local.passedThrough === true) {
              counters.inc('relay.receiver.refused')
              return
            }
            // A response of the relay service (forward_to_ never sends a message with nothing beyond us).
            let response: RelayResponse
            try {
              response = decodeRelayResponse(message.payload)
            } catch {
              counters.inc('relay.receiver.malformed')
              return
            }
            pending.get(Buffer.from(response.id).toString('hex'))?.settle(response)
            return
          }
          const to = message.onward[1] as Address
          // A passed-through frame (sealed, not encrypted on the project hop) goes only to a
          // channel opened through here, which authenticates it; never to the listener.
          const toChannel = to.type === LOCAL && channels.has(to.value) && router.hasWorker(to)
          const allowed =
            toChannel || (to.type === LOCAL && to.value === listener && message.local.passedThrough !== true)
          if (!allowed) refuse(addressKey(to))
          counters.inc('relay.receiver.delivered')
          await ctx.forward({
            onward: message.onward.slice(1),
            return: [ctx.address, ...message.return],
            payload: message.payload,
            local: sealedLike(message.local, { ingress: relayIngress }),
          })
          return
        }
        // Relay ingress of this registration: a frame of a channel opened through it, going back.
        const next = message.onward[1]
        if (next === undefined || next.type !== LOCAL || next.value !== channel) {
          counters.inc('relay.receiver.refused')
          return
        }
        learn(message.return[0])
        await ctx.forward({
          onward: message.onward.slice(1),
          return: message.return,
          payload: message.payload,
          local: sealedLike(message.local, { ingress: message.local.ingress, forwardedBy: ctx.address.value }),
        })
      },
      shutdown() {
        const stopped = new OckamError('OCKAM_ERR_STOPPED', `relay receiver ${name} stopped`)
        for (const p of pending.values()) p.settle(stopped)
      },
    },
    { incoming },
  )

  const request = async (
    kind: RelayRequestKind,
    { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<RelayOk> => {
    throwIfAborted(signal, `relay ${kind}`)
    const ctx = context
    if (ctx === undefined || ctx.signal.aborted) throw new OckamError('OCKAM_ERR_STOPPED', 'relay receiver stopped')
    const id = randomBytes(RELAY_REQUEST_ID_BYTES)
    const key = id.toString('hex')
    let settle!: (outcome: RelayResponse | OckamError) => void
    const outcome = new Promise<RelayResponse | OckamError>((resolve) => {
      settle = resolve
    })
    pending.set(key, { settle })
    const timer = setTimeout(
      () =>
        settle(
          new OckamError('OCKAM_ERR_TIMEOUT', `relay ${kind}: no answer from the relay service within ${timeoutMs} ms`),
        ),
      timeoutMs,
    )
    const onAbort = () => settle(abortError(signal as AbortSignal, `relay ${kind}`))
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await ctx.send([channelAddress, service], encodeRelayRequest({ kind, id: new Uint8Array(id), name }), {
        ...(signal === undefined ? {} : { signal }),
      })
      const result = await outcome
      if (result instanceof OckamError) throw result
      if (!result.ok) throw result.error
      return result
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      pending.delete(key)
    }
  }

  return {
    address,
    request,
    stop: () => router.stopWorker(address),
  }
}
