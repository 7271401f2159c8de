/**
 * The built-in `echo` service: replies with the payload it received. It opts in to every
 * ingress (it is a diagnostic service that holds nothing), and it replies with `ctx.reply`, so
 * its answer can only go back the way the request came.
 */
import type { Worker } from '../runtime/worker.js'

export const ECHO_ADDRESS = 'echo'

export function echoWorker(): Worker {
  return {
    async handleMessage(ctx, message) {
      ctx.counters.inc('echo.messages')
      await ctx.reply(message, message.payload)
    },
  }
}
