/**
 * The identities and policies of `ockam.config.ts`: which identities to create (only missing
 * ones: `start` is idempotent) and which policies to set (only changed ones). planTrust only
 * reads, so `start --check` can print it; applyTrust writes through the same services as the
 * `identity` and `policy` commands.
 */
import { OckamError } from '../errors.js'
import type { IdentitiesService } from '../trust/identities/identities.js'
import { formatPolicy, parsePolicy } from '../trust/policy/index.js'
import type { PolicyResourceType, PolicyStore, PolicyTarget } from '../trust/stored-policies.js'
import type { ValidConfig } from './schema.js'

export interface TrustPlan {
  readonly createIdentities: readonly string[]
  readonly setPolicies: ReadonlyArray<{ readonly target: PolicyTarget; readonly expression: string }>
}

export interface TrustServices {
  readonly identities: Pick<IdentitiesService, 'find' | 'create'>
  readonly policies: Pick<PolicyStore, 'get' | 'set'>
}

function declaredPolicies(config: ValidConfig): Array<{ target: PolicyTarget; expression: string }> {
  const out: Array<{ target: PolicyTarget; expression: string }> = []
  for (const [name, text] of Object.entries(config.policies?.resourceTypes ?? {})) {
    out.push({
      target: { kind: 'resource-type', name: name as PolicyResourceType },
      expression: formatPolicy(parsePolicy(text)),
    })
  }
  for (const [name, text] of Object.entries(config.policies?.resources ?? {})) {
    out.push({ target: { kind: 'resource', name }, expression: formatPolicy(parsePolicy(text)) })
  }
  return out
}

/** What `start` would change; `services` undefined = no state folder yet (everything is new). */
export function planTrust(
  config: ValidConfig,
  services: TrustServices | undefined,
  nodes: readonly string[],
): TrustPlan {
  const declared = config.identities ?? []
  const createIdentities = declared.filter((name) => services?.identities.find(name) === undefined)
  for (const node of nodes) {
    const identity = config.nodes[node]?.identity
    if (identity !== undefined && !declared.includes(identity) && services?.identities.find(identity) === undefined) {
      throw new OckamError('OCKAM_ERR_CONFIG_INVALID', `nodes.${node}.identity: no identity named "${identity}"`, {
        hint: `add "${identity}" to identities, or create it with: ockam-runtime identity create ${identity}`,
      })
    }
  }
  const setPolicies = declaredPolicies(config).filter(
    ({ target, expression }) => services?.policies.get(target)?.expression !== expression,
  )
  return { createIdentities, setPolicies }
}

export async function applyTrust(plan: TrustPlan, services: TrustServices): Promise<void> {
  for (const name of plan.createIdentities) await services.identities.create(name)
  for (const { target, expression } of plan.setPolicies) services.policies.set(target, expression)
}

export function describeTrustPlan(plan: TrustPlan): string[] {
  return [
    ...plan.createIdentities.map((name) => `create identity ${name}`),
    ...plan.setPolicies.map(({ target, expression }) => `set policy of ${target.kind} ${target.name}: ${expression}`),
  ]
}
