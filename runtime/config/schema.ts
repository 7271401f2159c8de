/**
 * The shape of `ockam.config.ts`, validated with zod so that every mistake is reported at
 * once with its path and what was expected (DESIGN §8). The TypeScript types users write
 * against are inferred from the same schema, so the two cannot drift.
 */
import { z } from 'zod'
import { parseHostPort } from '../../transports/tcp/host-port.js'
import { isOckamError } from '../errors.js'
import { parseCredentialTtl } from '../project/hosted-project.js'
import { IDENTITY_NAME_PATTERN, MAX_IDENTITY_NAME_LENGTH } from '../trust/identities/constants.js'
import { parsePolicy } from '../trust/policy/index.js'
import { MAX_RESOURCE_NAME_LENGTH, POLICY_RESOURCE_TYPES, RESOURCE_NAME_PATTERN } from '../trust/stored-policies.js'

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

const identityName = z
  .string()
  .max(MAX_IDENTITY_NAME_LENGTH)
  .regex(IDENTITY_NAME_PATTERN, 'identity names are letters, digits, ".", "_" and "-", starting with a letter or digit')

/** A policy expression (either form), parsed at validation time so a mistake names its position. */
const policyText = z.string().superRefine((value, ctx) => {
  try {
    parsePolicy(value)
  } catch (error) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: isOckamError(error) ? error.message : String(error) })
  }
})

export const policiesSchema = z
  .object({
    /** The policy of every resource of a type: `{ 'tcp-outlet': 'role.analyst' }`. */
    resourceTypes: z.record(z.enum(POLICY_RESOURCE_TYPES), policyText).optional(),
    /** The policy of one resource, by name; wins over its type's. */
    resources: z
      .record(
        z
          .string()
          .max(MAX_RESOURCE_NAME_LENGTH)
          .regex(RESOURCE_NAME_PATTERN, 'resource names are letters, digits, ".", "_", ":" and "-"'),
        policyText,
      )
      .optional(),
  })
  .strict()

export const poolSchema = z
  .object({
    threads: threads.optional(),
    maxQueue: z.number().int().positive().optional(),
    idleTimeoutMs: z.number().int().positive().optional(),
  })
  .strict()

/** A duration such as `15m`, checked against the authority's bounds at validation time. */
const durationText = z.string().superRefine((value, ctx) => {
  try {
    parseCredentialTtl(value)
  } catch (error) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: isOckamError(error) ? error.message : String(error) })
  }
})

const relayName = z.string().regex(/^[a-z0-9-]{1,63}$/, 'relay names are 1-63 characters of a-z, 0-9 and -')

/** `[HOST:]PORT`: a bare port means 127.0.0.1 (as in the CLI). */
const hostPortOrPort = z.union([z.number().int().min(1).max(65535), hostPort])

const serviceAddress = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'service addresses are 1-63 letters, digits, ".", "_" and "-"')

const identifiers = z
  .array(z.string().regex(/^I[0-9a-f]{64}$/, 'an identifier is I and 64 hex digits'))
  .min(1)
  .max(64)

/** `tcp-outlet create`: keyed by its service address (`outlet` by default in the CLI). */
const outletSchema = z
  .object({ to: hostPortOrPort, allow: policyText.optional(), authorized: identifiers.optional() })
  .strict()

/** `tcp-inlet create`: keyed by a name of your choice. */
const inletSchema = z
  .object({
    from: hostPortOrPort,
    /** A relay name (`postgres`, `postgres:a`) or a route ending in the outlet's /service/ADDR. */
    to: z.string().min(1).max(2048),
    allow: policyText.optional(),
    authorized: identifiers.optional(),
  })
  .strict()

const attributes = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'attribute names are 1-64 letters, digits, ".", "_" and "-"'),
  z.string().max(512),
)

export const nodeSchema = z
  .object({
    /** `host:port` of the node's TCP listener. */
    listen: hostPort.optional(),
    /** Start the forwarding service, allowed to dial these `host:port` targets. */
    forwardTo: z.array(hostPort).optional(),
    /** The identity the node presents: a name from `identities` (or one that already exists). */
    identity: identityName.optional(),
    /** More TCP listeners, by name: `{ public: '0.0.0.0:4100' }`. */
    tcpListeners: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,63}$/, 'listener names are 1-63 characters of letters, digits, ".", "_", "-"'),
        hostPort,
      )
      .optional(),
    /**
     * Membership of the node's identity. `{ ticket }`: redeem a ticket (text or file), as
     * `ockam-runtime enroll` does; skipped once this identity is a member. `{ attributes, relay }`:
     * in a folder that hosts the project, make it a member directly (no ticket needed).
     */
    enroll: z
      .union([
        z.object({ attributes: attributes.optional(), relay: relayName.optional() }).strict(),
        /** From another state folder: a ticket's text (e.g. process.env.BANK_TICKET) or a file holding it. */
        z
          .object({
            ticket: z
              .string()
              .min(1)
              .max(16 * 1024),
          })
          .strict(),
      ])
      .optional(),
    /** TCP outlets by service address: `{ outlet: { to: '127.0.0.1:5432' } }`. */
    outlets: z.record(serviceAddress, outletSchema).optional(),
    /** TCP inlets by name: `{ db: { from: '127.0.0.1:15432', to: 'postgres' } }`. */
    inlets: z.record(serviceAddress, inletSchema).optional(),
    /** Relays this node keeps registered on the project. */
    relays: z.array(relayName).optional(),
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
    /** Identities of this state folder, created when missing; the first one created becomes the default. */
    identities: z.array(identityName).optional(),
    policies: policiesSchema.optional(),
    /** This state folder hosts a project: a node named after it runs the authority and the relay service. */
    project: z
      .object({
        name: z.string().regex(/^[a-z0-9-]{1,63}$/, 'project names are 1-63 characters of a-z, 0-9 and -'),
        listen: hostPort,
        /** What tickets carry; default `listen`. */
        advertise: hostPort.optional(),
        /** Lifetime of member credentials, refreshed at half-life: `15m` (default), `1h`… (at least 1m). */
        credentialTtl: durationText.optional(),
        /** false: member channels seal end-to-end frames again (hides relay names and sizes on the wire). */
        passthrough: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /**
     * A small HTTP service started with the topology (it answers every request with a greeting):
     * something for a demo's outlet to reach. Not a product feature.
     */
    demoService: z.object({ listen: hostPort }).strict().optional(),
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
