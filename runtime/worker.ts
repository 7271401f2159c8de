/** The worker (actor) contract: registered at one or more addresses, one message at a time. */
import type { IncomingAccessControl } from './access-control.js'
import type { Context } from './context.js'
import type { Message } from './message.js'

export interface Worker {
  /** Runs once before the first message. */
  initialize?(ctx: Context): void | Promise<void>
  /** Called for each delivered message, never concurrently for one worker. */
  handleMessage(ctx: Context, message: Message): void | Promise<void>
  /** Runs once when the worker is stopped (its mailbox is already closed). */
  shutdown?(ctx: Context): void | Promise<void>
}

export interface WorkerOptions {
  /** Which messages this worker accepts; default local-only. */
  incoming?: IncomingAccessControl
  /** Mailbox capacity in messages; default DEFAULT_MAILBOX_CAPACITY. */
  mailboxCapacity?: number
}
