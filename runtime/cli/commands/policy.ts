/**
 * `policy create|show|list|delete`: access policies stored per resource and per resource type
 * (runtime/trust/stored-policies.ts). Texts are stored and printed in canonical form.
 */
import type { Command } from 'commander'
import { OckamError } from '../../errors.js'
import {
  POLICY_RESOURCE_TYPES,
  type PolicyResourceType,
  type PolicyTarget,
  type StoredPolicy,
} from '../../trust/stored-policies.js'
import type { Output } from '../output.js'
import { columns, isoMs } from '../trust-format.js'
import { withTrustSession } from '../trust-session.js'

interface TargetOptions {
  resource?: string
  resourceType?: string
}

/** Exactly one of --resource and --resource-type. */
function targetOf(options: TargetOptions): PolicyTarget {
  const { resource, resourceType } = options
  if ((resource === undefined) === (resourceType === undefined)) {
    throw new OckamError('OCKAM_ERR_CLI_USAGE', 'give exactly one of --resource and --resource-type', {
      hint: `--resource NAME for one resource, --resource-type for all of a type (${POLICY_RESOURCE_TYPES.join(', ')})`,
    })
  }
  return resource !== undefined
    ? { kind: 'resource', name: resource }
    : { kind: 'resource-type', name: resourceType as PolicyResourceType }
}

function policyJson(stored: StoredPolicy): Record<string, unknown> {
  return {
    [stored.target.kind === 'resource' ? 'resource' : 'resourceType']: stored.target.name,
    expression: stored.expression,
    created: isoMs(stored.createdAt),
    updated: isoMs(stored.updatedAt),
  }
}

function describe(target: PolicyTarget): string {
  return `${target.kind === 'resource' ? 'resource' : 'resource type'} ${target.name}`
}

function withTargetOptions(command: Command): Command {
  return command
    .option('--resource <name>', 'one resource, by name (an outlet, inlet or relay)')
    .option('--resource-type <type>', `every resource of a type: ${POLICY_RESOURCE_TYPES.join(', ')}`)
}

function notFound(target: PolicyTarget): OckamError {
  return new OckamError('OCKAM_ERR_POLICY_NOT_FOUND', `no policy for ${describe(target)}`, {
    hint: 'run: ockam-runtime policy list',
  })
}

export function registerPolicyCommands(program: Command, output: () => Output): void {
  const policy = program
    .command('policy')
    .description('access policies of resources and resource types (see docs/policies.md)')

  withTargetOptions(policy.command('create'))
    .requiredOption('--expression <policy>', 'an S-expression or short form, e.g. "role.analyst and not contractor"')
    .description('store the policy of a resource or resource type (replacing any); prints its canonical form')
    .action(async (options: TargetOptions & { expression: string }) => {
      const target = targetOf(options)
      const { policy: stored, replaced } = await withTrustSession(async ({ policies }) =>
        policies.set(target, options.expression),
      )
      output().data({ ...policyJson(stored), replaced }, () => stored.expression)
    })

  withTargetOptions(policy.command('show'))
    .description('print the policy stored for a resource or resource type')
    .action(async (options: TargetOptions) => {
      const target = targetOf(options)
      const stored = await withTrustSession(async ({ policies }) => policies.get(target))
      if (stored === undefined) throw notFound(target)
      output().data(policyJson(stored), () => stored.expression)
    })

  policy
    .command('list')
    .description('list the stored policies')
    .action(async () => {
      const all = await withTrustSession(async ({ policies }) => policies.list())
      if (all.length === 0 && output().format === 'text') {
        process.stderr.write('no policies stored\n')
        return
      }
      output().data(all.map(policyJson), () =>
        columns(
          all.map((stored) => [
            stored.target.kind === 'resource' ? 'resource' : 'resource-type',
            stored.target.name,
            stored.expression,
          ]),
        ),
      )
    })

  withTargetOptions(policy.command('delete'))
    .description('delete the policy of a resource or resource type')
    .action(async (options: TargetOptions) => {
      const target = targetOf(options)
      const deleted = await withTrustSession(async ({ policies }) => policies.delete(target))
      if (!deleted) throw notFound(target)
      output().data(
        { deleted: true, [target.kind === 'resource' ? 'resource' : 'resourceType']: target.name },
        () => `deleted the policy of ${describe(target)}`,
      )
    })
}
