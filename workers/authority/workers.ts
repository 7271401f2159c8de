/**
 * The authority's request/response workers. Each is registered with `channelIngressOnly`: the
 * router delivers only messages that came out of an authenticated secure channel, and the
 * handler checks again. Replies go with ctx.reply, so they can only leave the way the request
 * came in (back into that channel).
 */
import type { IncomingAccessControl } from '../../runtime/access-control.js'
import { local } from '../../runtime/address.js'
import type { AuthorityService } from '../../runtime/authority/authority.js'
import type { Context } from '../../runtime/context.js'
import type { Worker } from '../../runtime/worker.js'
import { CREDENTIALS_ADDRESS, ENROLLMENT_ADDRESS, MEMBERS_ADDRESS, REVOCATIONS_ADDRESS } from './constants.js'
import {
  type AuthorityHandler,
  createCredentialsHandler,
  createEnrollmentHandler,
  createMembersHandler,
  type HandlerOptions,
} from './handlers.js'
import { type RevocationsWorker, type RevocationsWorkerOptions, revocationsWorker } from './revocations-worker.js'

/** Accepts only messages whose ingress is an authenticated secure channel (not even local ones). */
export const channelIngressOnly: IncomingAccessControl = {
  name: 'channel-only',
  allows: (message) => message.local.ingress.kind === 'channel',
}

/** A worker that answers each request with `handler`'s response. */
export function authorityWorker(handler: AuthorityHandler, counter: string): Worker {
  return {
    async handleMessage(ctx, message) {
      ctx.counters.inc(counter)
      await ctx.reply(message, await handler(message.local.ingress, message.payload))
    },
  }
}

export interface AuthorityWorkers {
  readonly revocations: RevocationsWorker
  /** Stops the four workers. */
  stop(): Promise<void>
}

export interface StartAuthorityWorkersOptions extends HandlerOptions, RevocationsWorkerOptions {}

/** Starts `enrollment`, `credentials`, `members` and `revocations` on the context's node. */
export async function startAuthorityWorkers(
  ctx: Context,
  service: AuthorityService,
  options: StartAuthorityWorkersOptions = {},
): Promise<AuthorityWorkers> {
  const handlerOptions = {
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.credentialTtlSeconds === undefined ? {} : { credentialTtlSeconds: options.credentialTtlSeconds }),
  }
  const revocations = revocationsWorker(service, options)
  const workers: Array<[string, Worker]> = [
    [ENROLLMENT_ADDRESS, authorityWorker(createEnrollmentHandler(service, handlerOptions), 'authority.enrollment')],
    [CREDENTIALS_ADDRESS, authorityWorker(createCredentialsHandler(service, handlerOptions), 'authority.credentials')],
    [MEMBERS_ADDRESS, authorityWorker(createMembersHandler(service, handlerOptions), 'authority.members')],
    [REVOCATIONS_ADDRESS, revocations],
  ]
  const started: string[] = []
  const stop = async () => {
    for (const address of started.splice(0).reverse()) await ctx.stopWorker(local(address))
  }
  try {
    for (const [address, worker] of workers) {
      await ctx.startWorker(local(address), worker, { incoming: channelIngressOnly })
      started.push(address)
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { revocations, stop }
}
