/**
 * TEST ONLY. Stands in for a secure channel between a member and the project inside one router,
 * so the authority workers can be tested without the secure-channel branch: what enters at
 * `<name>-out` leaves stamped with the ingress the real channel would give it on the project
 * side ({ kind: 'channel', identifier: member }); replies pass `<name>-back` and come out stamped
 * as coming from the project's identity. Closing stops both workers (pushes then fail, as they
 * would on a closed channel).
 */
import { allowAll } from '../../../runtime/access-control.js'
import { type Address, local } from '../../../runtime/address.js'
import type { Context } from '../../../runtime/context.js'
import type { Ingress, Message } from '../../../runtime/message.js'

export interface SimulatedChannel {
  readonly name: string
  /** First hop of a route from the member's side into the project. */
  readonly out: Address
  close(): Promise<void>
}

export async function simulatedChannel(
  ctx: Context,
  options: { name: string; member: string; project: string; attributes?: Readonly<Record<string, string>> },
): Promise<SimulatedChannel> {
  const out = local(`${options.name}-out`)
  const back = local(`${options.name}-back`)
  const stamp = (identifier: string): Ingress => ({
    kind: 'channel',
    channel: options.name,
    identifier,
    attributes: options.attributes ?? {},
  })
  const relay = (ingress: Ingress, returnVia: Address) => ({
    async handleMessage(worker: Context, message: Message) {
      await worker.forward({
        onward: message.onward.slice(1),
        return: [returnVia, ...message.return],
        payload: message.payload,
        local: { ingress },
      })
    },
  })
  await ctx.startWorker(out, relay(stamp(options.member), back), { incoming: allowAll })
  await ctx.startWorker(back, relay(stamp(options.project), out), { incoming: allowAll })
  return {
    name: options.name,
    out,
    async close() {
      await ctx.stopWorker(out)
      await ctx.stopWorker(back)
    },
  }
}
