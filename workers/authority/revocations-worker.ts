/**
 * The `revocations` service: a member subscribes from the last seq it holds; the answer carries
 * the entries after it (a page at a time) and the latest seq; after that, every new deletion is
 * pushed to each subscriber as the entries it has not been sent. One subscription per channel
 * (subscribing again from the same channel replaces it); a subscription ends when a push cannot
 * be delivered, when the lead's channel bookkeeping calls dropChannel, or when the worker stops.
 *
 * Pushes are replies to the subscription request (ctx.reply keeps its ingress), so they can only
 * travel back into the channel the subscription came from: a subscriber cannot make the project
 * node send elsewhere.
 */
import type { AuthorityService } from '../../runtime/authority/authority.js'
import {
  DEFAULT_MAX_REVOCATION_SUBSCRIBERS,
  DEFAULT_REVOCATION_ENTRIES_PER_MESSAGE,
} from '../../runtime/authority/constants.js'
import type { Context } from '../../runtime/context.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { Message } from '../../runtime/message.js'
import type { Worker } from '../../runtime/worker.js'
import { channelPeer } from './handlers.js'
import { decodeSubscribeRequest, encodeError, encodeOk, encodePush, revocationBatchValue } from './protocol.js'

export interface RevocationsWorkerOptions {
  /** Default DEFAULT_MAX_REVOCATION_SUBSCRIBERS. */
  readonly maxSubscribers?: number
  /** Default DEFAULT_REVOCATION_ENTRIES_PER_MESSAGE. */
  readonly entriesPerMessage?: number
}

export interface RevocationsWorker extends Worker {
  /** Current subscriptions. */
  readonly subscribers: number
  /** Ends the subscription of a channel (call when the channel closes); true if there was one. */
  dropChannel(channel: string): boolean
  /** Resolves when every push scheduled so far has been attempted (tests, orderly stop). */
  idle(): Promise<void>
}

interface Subscription {
  readonly request: Message
  readonly peer: string
  /** Highest seq sent to it. */
  sent: number
}

export function revocationsWorker(
  service: AuthorityService,
  options: RevocationsWorkerOptions = {},
): RevocationsWorker {
  const maxSubscribers = options.maxSubscribers ?? DEFAULT_MAX_REVOCATION_SUBSCRIBERS
  const perMessage = options.entriesPerMessage ?? DEFAULT_REVOCATION_ENTRIES_PER_MESSAGE
  const subscriptions = new Map<string, Subscription>()
  let context: Context | undefined
  let unsubscribe: (() => void) | undefined
  let pushing: Promise<void> = Promise.resolve()

  const pushAll = async (): Promise<void> => {
    const ctx = context
    if (ctx === undefined) return
    for (const [channel, subscription] of subscriptions) {
      // A member deleted since it subscribed gets no more (its channels are being closed anyway).
      if (service.memberRole(subscription.peer) === undefined) {
        subscriptions.delete(channel)
        continue
      }
      for (;;) {
        const page = service.entriesSince(subscription.sent, perMessage)
        const last = page.entries.at(-1)
        if (last === undefined) break
        try {
          await ctx.reply(
            subscription.request,
            encodePush(
              revocationBatchValue({ entries: page.entries.map((entry) => entry.bytes), latestSeq: page.latestSeq }),
            ),
          )
        } catch {
          // The channel is gone: the subscriber resynchronizes from its last seq when it is back.
          ctx.counters.inc('authority.revocations.dropped')
          subscriptions.delete(channel)
          break
        }
        subscription.sent = last.seq
        ctx.counters.inc('authority.revocations.pushed')
      }
    }
  }

  return {
    get subscribers() {
      return subscriptions.size
    },
    dropChannel: (channel) => subscriptions.delete(channel),
    idle: () => pushing,
    initialize(ctx) {
      context = ctx
      unsubscribe = service.onRevocation(() => {
        pushing = pushing.then(pushAll, pushAll)
      })
    },
    shutdown() {
      unsubscribe?.()
      subscriptions.clear()
      context = undefined
    },
    async handleMessage(ctx, message) {
      let response: Uint8Array
      try {
        const peer = channelPeer(message.local.ingress)
        const channel = (message.local.ingress as { channel: string }).channel
        if (service.memberRole(peer) === undefined) {
          throw new OckamError('OCKAM_ERR_AUTHORITY_ACCESS_DENIED', 'only members may subscribe to revocations', {
            hint: 'enroll with a ticket first',
          })
        }
        const { since } = decodeSubscribeRequest(message.payload)
        if (!subscriptions.has(channel) && subscriptions.size >= maxSubscribers) {
          throw new OckamError(
            'OCKAM_ERR_AUTHORITY_TOO_MANY_SUBSCRIBERS',
            `the revocation service has ${maxSubscribers} subscribers`,
            { hint: 'the project node is at its limit; try again later', data: { maxSubscribers } },
          )
        }
        const page = service.entriesSince(since, perMessage)
        // A subscriber ahead of the authority (restored from an older backup) is sent what comes
        // next from here, so it hears of the mismatch (a conflict) instead of silently nothing.
        const sent = page.entries.at(-1)?.seq ?? Math.min(since, page.latestSeq)
        subscriptions.set(channel, { request: message, peer, sent })
        response = encodeOk(
          revocationBatchValue({ entries: page.entries.map((entry) => entry.bytes), latestSeq: page.latestSeq }),
        )
      } catch (error) {
        response = encodeError(
          isOckamError(error) ? error : new OckamError('OCKAM_ERR_INTERNAL', 'the revocations service failed'),
        )
      }
      ctx.counters.inc('authority.revocations.requests')
      await ctx.reply(message, response)
    },
  }
}
