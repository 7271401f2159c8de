/** Shared pieces for router unit tests: a router with captured logs, messages, a gate. */
import { type Address, addressKey } from '../../../runtime/address.js'
import { Counters } from '../../../runtime/diagnostics.js'
import { OckamError } from '../../../runtime/errors.js'
import { type Ingress, LOCAL_INGRESS, type LocalMetadata, type Message } from '../../../runtime/message.js'
import type { Route } from '../../../runtime/route.js'
import { Router } from '../../../runtime/router.js'
import type { ResolveOptions, Transport } from '../../../runtime/transport.js'
import type { Worker } from '../../../runtime/worker.js'
import { captureLog } from '../../helpers/log-capture.js'

export function testRouter(): { router: Router; counters: Counters; logs: ReturnType<typeof captureLog> } {
  const logs = captureLog('router-test')
  const counters = new Counters('router-test')
  return { router: new Router({ nodeName: 'router-test', log: logs.log, counters }), counters, logs }
}

export const TCP_INGRESS = Object.freeze({ kind: 'tcp', connection: 'tcp-in', peer: '10.0.0.9:5555' }) satisfies Ingress

export function message(
  onward: Route,
  options: { ingress?: Ingress; forwardedBy?: string; text?: string } = {},
): Message {
  const local: LocalMetadata =
    options.forwardedBy === undefined
      ? { ingress: options.ingress ?? LOCAL_INGRESS }
      : { ingress: options.ingress ?? LOCAL_INGRESS, forwardedBy: options.forwardedBy }
  return { onward, return: [], payload: Buffer.from(options.text ?? ''), local }
}

export function text(m: Message): string {
  return Buffer.from(m.payload).toString()
}

/** A promise with its resolve function outside (Promise.withResolvers is Node 22+). */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** A transport for address type 1 that records what the router asked and answers with `to`. */
export class FakeTransport implements Transport {
  readonly type = 1
  readonly name = 'fake'
  readonly calls: Array<{ address: string; mayDial: boolean }> = []
  readonly #to: Address

  constructor(to: Address) {
    this.#to = to
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async resolve(address: Address, options: ResolveOptions): Promise<Address> {
    this.calls.push({ address: addressKey(address), mayDial: options.mayDial })
    if (!options.mayDial) {
      throw new OckamError('OCKAM_ERR_ROUTER_NO_DIAL', `would have dialed ${addressKey(address)}`)
    }
    return this.#to
  }
}

/** A worker that keeps what it receives; `done` resolves once it has `count` messages. */
export function collector(count: number): { worker: Worker; messages: Message[]; done: Promise<void> } {
  const messages: Message[] = []
  const { promise, open } = gate()
  return {
    worker: {
      handleMessage(_ctx, m) {
        messages.push(m)
        if (messages.length === count) open()
      },
    },
    messages,
    done: promise,
  }
}
