/**
 * The shape of `ockam.config.ts`, validated with zod so that every mistake is reported at
 * once with its path and what was expected (DESIGN §8). The TypeScript types users write
 * against are inferred from the same schema, so the two cannot drift.
 */
import { z } from 'zod'
import { parseHostPort } from '../../transports/tcp/host-port.js'

const hostPort = z.string().superRefine((value, ctx) => {
  try {
    parseHostPort(value)
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected HOST:PORT such as 127.0.0.1:4000, got "${value}"` })
  }
})

const threads = z.union([z.literal('auto'), z.number().int().min(0).max(64)], {
  errorMap: () => ({ message: "expected 'auto' or a whole number of threads from 0 to 64 (0 = inline)" }),
})

export const poolSchema = z
  .object({
    threads: threads.optional(),
    maxQueue: z.number().int().positive().optional(),
    idleTimeoutMs: z.number().int().positive().optional(),
  })
  .strict()

export const nodeSchema = z
  .object({
    /** `host:port` of the node's TCP listener. */
    listen: hostPort.optional(),
    /** Start the forwarding service, allowed to dial these `host:port` targets. */
    forwardTo: z.array(hostPort).optional(),
    /** More TCP listeners, by name: `{ public: '0.0.0.0:4100' }`. */
    tcpListeners: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,63}$/, 'listener names are 1-63 characters of letters, digits, ".", "_", "-"'),
        hostPort,
      )
      .optional(),
  })
  .strict()

const nodeName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'node names are 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit',
  )

export const configSchema = z
  .object({
    pools: z.object({ crypto: poolSchema.optional() }).strict().optional(),
    logging: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional() })
      .strict()
      .optional(),
    nodes: z.record(nodeName, nodeSchema).refine((nodes) => Object.keys(nodes).length > 0, 'declare at least one node'),
  })
  .strict()

export type OckamConfig = z.input<typeof configSchema>
export type NodeConfig = z.input<typeof nodeSchema>
export type ValidConfig = z.output<typeof configSchema>

/** One mistake: where it is (`nodes.bank.listen`) and what was expected. */
export interface ConfigIssue {
  readonly path: string
  readonly message: string
}

export function validateConfig(
  value: unknown,
): { ok: true; config: ValidConfig } | { ok: false; issues: ConfigIssue[] } {
  const result = configSchema.safeParse(value)
  if (result.success) return { ok: true, config: result.data }
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.length === 0 ? '(root)' : issue.path.join('.'),
    message:
      issue.code === z.ZodIssueCode.unrecognized_keys
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: check the spelling`
        : issue.message,
  }))
  return { ok: false, issues }
}
