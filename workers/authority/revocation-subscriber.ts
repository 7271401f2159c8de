/**
 * The subscriber side of the `revocations` service, for nodes that enforce membership (relay
 * service, outlets, inlets): it subscribes from the last seq its store holds, stores every batch
 * it is sent (verified by the store), asks for the next page while it is behind, and after a
 * gap subscribes again from where it is. The session that owns the channel to the project calls
 * `subscribe()` again after every reconnect (DESIGN §12: re-synchronized from the last sequence).
 */
import type { RevocationStore } from '../../runtime/authority/revocation-store.js'
import type { Context } from '../../runtime/context.js'
import { isOckamError, OckamError } from '../../runtime/errors.js'
import type { Route } from '../../runtime/route.js'
import type { Worker } from '../../runtime/worker.js'
import { decodeResponse, encodeSubscribeRequest, parseRevocationBatch } from './protocol.js'

export interface RevocationSubscriberOptions {
  readonly store: RevocationStore
  /** Route to the project's `revocations` service, through the secure channel. */
  readonly route: Route
  /** When set, batches arriving from a channel whose peer is another identifier are ignored. */
  readonly peer?: string
  /** Told about failures (a refused entry, an error response, a send that failed). */
  readonly onError?: (error: OckamError) => void
}

export interface RevocationSubscriber extends Worker {
  /** Sends a subscription from the store's last seq (after start and after every reconnect). */
  subscribe(): Promise<void>
}

export function revocationSubscriber(options: RevocationSubscriberOptions): RevocationSubscriber {
  const { store } = options
  let context: Context | undefined
  // The seq of the last subscription sent after a gap or a page, to stop if no progress is made.
  let resyncedFrom: number | undefined

  const report = (error: unknown) => {
    const typed = isOckamError(error)
      ? error
      : new OckamError('OCKAM_ERR_INTERNAL', 'revocation subscriber failed', { cause: error })
    options.onError?.(typed)
  }

  const subscribe = async (): Promise<void> => {
    const ctx = context
    if (ctx === undefined) throw new OckamError('OCKAM_ERR_NOT_STARTED', 'the revocation subscriber is not started')
    await ctx.send(options.route, encodeSubscribeRequest(store.lastSeq()), { returnRoute: [ctx.address] })
  }

  /** Subscribes again from the store's seq, unless that is where the last retry started. */
  const resync = async () => {
    const from = store.lastSeq()
    if (resyncedFrom === from) {
      report(new OckamError('OCKAM_ERR_REVOCATION_SEQ_GAP', `no progress resynchronizing from ${from}`))
      return
    }
    resyncedFrom = from
    await subscribe()
  }

  return {
    subscribe() {
      resyncedFrom = undefined
      return subscribe()
    },
    async initialize(ctx) {
      context = ctx
      try {
        await subscribe()
      } catch (error) {
        // The route may not be up yet: the session subscribes again when it is.
        report(error)
      }
    },
    shutdown() {
      context = undefined
    },
    async handleMessage(ctx, message) {
      const ingress = message.local.ingress
      if (ingress.kind !== 'channel' || (options.peer !== undefined && ingress.identifier !== options.peer)) {
        ctx.counters.inc('authority.subscriber.ignored')
        return
      }
      try {
        const response = decodeResponse(message.payload)
        if (response.status === 'error') {
          report(response.error)
          return
        }
        const batch = parseRevocationBatch(response.body)
        try {
          store.accept(batch.entries)
        } catch (error) {
          if (isOckamError(error, 'OCKAM_ERR_REVOCATION_SEQ_GAP')) {
            await resync()
            return
          }
          throw error
        }
        if (batch.latestSeq > store.lastSeq()) await resync()
        else resyncedFrom = undefined
      } catch (error) {
        report(error)
      }
    },
  }
}
