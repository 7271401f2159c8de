/**
 * The explicit forwarding service: the only way a message from the network may continue from
 * this node to another one (DESIGN §12). It has its own policies: which ingress may use it
 * (its incoming access control) and which TCP addresses it may dial (`targets`). It keeps the
 * message's ingress, so a local service behind it still sees where the message really came
 * from, and it puts itself on the return route so replies come back through it.
 */
import { addressKey, TCP } from '../runtime/address.js'
import { OckamError } from '../runtime/errors.js'
import type { Message } from '../runtime/message.js'
import type { Worker } from '../runtime/worker.js'

export const FORWARDER_ADDRESS = 'forward'

export interface ForwarderOptions {
  /** `host:port` addresses this service may connect to; '*' for any (an open proxy: avoid). */
  targets: readonly string[] | '*'
}

export function forwarderWorker(options: ForwarderOptions): Worker {
  const allowed = options.targets === '*' ? undefined : new Set(options.targets)
  return {
    async handleMessage(ctx, message) {
      const onward = message.onward.slice(1)
      const next = onward[0]
      if (next === undefined) {
        ctx.counters.inc('forwarder.dropped.empty')
        return
      }
      if (next.type === TCP && allowed !== undefined && !allowed.has(next.value)) {
        ctx.counters.inc('forwarder.denied')
        throw new OckamError('OCKAM_ERR_ROUTER_NO_DIAL', `forwarding to ${addressKey(next)} is not allowed here`, {
          hint: `allowed targets: ${[...allowed].join(', ') || 'none'}`,
        })
      }
      const forwarded: Message = {
        onward,
        return: [ctx.address, ...message.return],
        payload: message.payload,
        local: { ingress: message.local.ingress, forwardedBy: ctx.address.value },
      }
      ctx.counters.inc('forwarder.forwarded')
      await ctx.forward(forwarded)
    },
  }
}
