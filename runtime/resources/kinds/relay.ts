/**
 * Resource kind `relay` (DESIGN §7, issue "The project"): a registration of `forward_to_<name>`
 * on the project's relay service, kept alive by a relay session (pings, backoff with jitter,
 * re-created after the project restarts or the network drops). Spec `{ name, identity? }`.
 * Creating one waits for the first answer so that a refusal (no `relay` attribute for the name,
 * the name owned by another identity) fails the command; a project that cannot be reached only
 * delays it: the session keeps trying, at create and at restore alike.
 */
import { startRelaySession } from '../../../workers/relay/index.js'
import { isRelayName } from '../../authority/attributes.js'
import { isOckamError, OckamError } from '../../errors.js'
import { requireProject } from '../../project/membership.js'
import { openProjectChannel } from '../../project/project-channel.js'
import type { ResourceHandle, ResourceKind } from '../types.js'
import { nodeTrust } from './secure-channel-trust.js'

export const RELAY_KIND = 'relay'

/** How long creating a relay waits for the project's first answer before reporting it as connecting (ms). */
export const DEFAULT_RELAY_CREATE_WAIT_MS = 10_000
/** Handshake of each channel to the project (ms). */
export const DEFAULT_RELAY_CHANNEL_TIMEOUT_MS = 10_000

/** Refusals that retrying cannot fix: creating the relay fails with them. */
const REFUSALS = new Set([
  'OCKAM_ERR_RELAY_NOT_ALLOWED',
  'OCKAM_ERR_RELAY_NAME_TAKEN',
  'OCKAM_ERR_RELAY_NAME_INVALID',
  // Not a member (never enrolled, or deleted): the project's relay service refuses it.
  'OCKAM_ERR_AUTHORITY_ACCESS_DENIED',
  'OCKAM_ERR_PROJECT_NONE',
  'OCKAM_ERR_PROJECT_MISMATCH',
  'OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED',
  'OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER',
])

export interface RelaySpec {
  /** `[a-z0-9-]{1,63}`: reached as `forward_to_<name>` on the project node. */
  readonly name: string
  /** Named identity that registers it; default the node's. */
  readonly identity?: string
  /** The project it is registered on (`relay create --to /project/NAME`); default the folder's. */
  readonly project?: string
}

function invalid(message: string): OckamError {
  return new OckamError('OCKAM_ERR_RESOURCE_INVALID', message, {
    hint: 'a relay spec is { name: "postgres" } (a-z, 0-9 and -, at most 63), optionally identity',
  })
}

export function relayKind(): ResourceKind<RelaySpec> {
  return {
    kind: RELAY_KIND,
    restoreOrder: 3,
    validate(spec) {
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid('the spec must be an object')
      const { name, identity, project, ...rest } = spec as Record<string, unknown>
      if (Object.keys(rest).length > 0) throw invalid(`unknown fields: ${Object.keys(rest).join(', ').slice(0, 100)}`)
      if (!isRelayName(name)) throw invalid(`${JSON.stringify(String(name).slice(0, 70))} is not a relay name`)
      if (identity !== undefined && typeof identity !== 'string') throw invalid('"identity" must be an identity name')
      if (project !== undefined && !isRelayName(project)) throw invalid('"project" must be a project name')
      return {
        name,
        ...(identity === undefined ? {} : { identity }),
        ...(project === undefined ? {} : { project }),
      }
    },
    defaultName: (spec) => spec.name,
    satisfies: (desired, recorded) => JSON.stringify(desired) === JSON.stringify(recorded),
    async start(host, spec, signal): Promise<ResourceHandle<RelaySpec>> {
      const project = requireProject(host.store, (await nodeTrust(host)).identities)
      if (spec.project !== undefined && spec.project !== project.name) {
        throw new OckamError(
          'OCKAM_ERR_PROJECT_MISMATCH',
          `this state folder is in project ${project.name}, not ${spec.project}`,
          {
            hint: `use --to /project/${project.name}, or enroll this state folder in ${spec.project}`,
          },
        )
      }
      const session = startRelaySession(host.node, {
        name: spec.name,
        connect: async (attempt) =>
          (
            await openProjectChannel(host, {
              identity: spec.identity,
              timeoutMs: DEFAULT_RELAY_CHANNEL_TIMEOUT_MS,
              signal: attempt,
            })
          ).channel,
      })
      const first = await new Promise<OckamError | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), DEFAULT_RELAY_CREATE_WAIT_MS)
        const settle = (value: OckamError | undefined) => {
          clearTimeout(timer)
          session.off('up', onUp)
          session.off('down', onDown)
          signal?.removeEventListener('abort', onAbort)
          resolve(value)
        }
        const onUp = () => settle(undefined)
        const onDown = (error: OckamError) => settle(error)
        const onAbort = () => settle(new OckamError('OCKAM_ERR_ABORTED', `creating relay ${spec.name} was aborted`))
        session.on('up', onUp)
        session.on('down', onDown)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
      if (first !== undefined && (REFUSALS.has(first.code) || first.code === 'OCKAM_ERR_ABORTED')) {
        await session.stop()
        throw first
      }
      if (first !== undefined) {
        host.log.warn(
          { event: 'relay.waiting', relay: spec.name, code: first.code },
          `relay ${spec.name} is not up yet (${first.message}); it keeps trying`,
        )
      }
      return {
        spec,
        summary: () => {
          const state = session.state
          return {
            name: spec.name,
            status: state.status,
            ...(state.forwardAddress === undefined ? {} : { forwardAddress: state.forwardAddress }),
            ...(state.lastError === undefined || state.status === 'up' ? {} : { lastError: state.lastError.oneLine() }),
          }
        },
        counters: () => ({ ups: session.state.ups, attempts: session.state.attempts }),
        stop: () => session.stop(),
      }
    },
  }
}

export function isRelayRefusal(error: unknown): boolean {
  return isOckamError(error) && REFUSALS.has(error.code)
}
