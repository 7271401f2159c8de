/**
 * Makes the registry match a declarative config (`start`): declared nodes are created or
 * updated, their declared resources created or kept, resources the config no longer declares
 * removed, and nodes this config created but no longer declares deleted. planConfig only
 * reads (it is what `start --check` prints); applyPlan writes it in one transaction.
 */
import type { Database } from 'better-sqlite3'
import { OckamError } from '../errors.js'
import { createResourceRepository } from '../resources/repository.js'
import type { AnyResourceKind } from '../resources/types.js'
import { createNodeRepository, type NodeSettings } from './node-repository.js'

export interface DesiredResource {
  readonly kind: string
  readonly name: string
  readonly spec: unknown
}

export interface DesiredNode {
  readonly name: string
  readonly settings: NodeSettings
  readonly resources: readonly DesiredResource[]
}

export type ResourceAction = 'create' | 'keep' | 'update' | 'remove'

export interface ResourcePlan {
  readonly kind: string
  readonly name: string
  readonly action: ResourceAction
  readonly spec: unknown
}

export interface NodePlan {
  readonly name: string
  readonly action: 'create' | 'update'
  readonly resources: readonly ResourcePlan[]
}

export interface ConfigPlan {
  readonly nodes: readonly NodePlan[]
  /** Nodes the same config file declared before and no longer does. */
  readonly removeNodes: readonly string[]
}

export interface PlanOptions {
  /** Absolute path of the config file: its nodes carry it as `managedBy`. */
  readonly managedBy: string
  readonly kinds: readonly AnyResourceKind[]
  /** False with `start --node X`: other nodes of the config are none of this run's business. */
  readonly removeUndeclaredNodes: boolean
}

function kindOf(kinds: readonly AnyResourceKind[], name: string): AnyResourceKind {
  const kind = kinds.find((k) => k.kind === name)
  if (kind === undefined) throw new OckamError('OCKAM_ERR_RESOURCE_UNKNOWN_KIND', `no resource kind "${name}"`)
  return kind
}

/** The plan against `db`, or against an empty registry when there is no database yet. */
export function planConfig(
  db: Database | undefined,
  desired: readonly DesiredNode[],
  options: PlanOptions,
): ConfigPlan {
  const nodes = db === undefined ? undefined : createNodeRepository(db)
  const resources = db === undefined ? undefined : createResourceRepository(db)
  const plans: NodePlan[] = desired.map((node) => {
    const exists = nodes?.get(node.name) !== undefined
    const recorded = exists ? (resources?.list(node.name) ?? []) : []
    const steps: ResourcePlan[] = []
    for (const want of node.resources) {
      const kind = kindOf(options.kinds, want.kind)
      const spec = kind.validate(want.spec)
      const have = recorded.find((r) => r.kind === want.kind && r.name === want.name)
      let action: ResourceAction = 'create'
      if (have !== undefined) {
        let satisfied = false
        try {
          satisfied = kind.satisfies(spec, kind.validate(have.spec))
        } catch {
          satisfied = false // a recorded spec this binary cannot read is replaced
        }
        action = satisfied ? 'keep' : 'update'
      }
      steps.push({ kind: want.kind, name: want.name, action, spec: action === 'keep' ? have?.spec : spec })
    }
    for (const have of recorded) {
      if (!node.resources.some((w) => w.kind === have.kind && w.name === have.name)) {
        steps.push({ kind: have.kind, name: have.name, action: 'remove', spec: have.spec })
      }
    }
    return { name: node.name, action: exists ? 'update' : 'create', resources: steps }
  })
  const declared = new Set(desired.map((n) => n.name))
  const removeNodes =
    options.removeUndeclaredNodes && nodes !== undefined
      ? nodes
          .list()
          .filter((n) => n.settings.managedBy === options.managedBy && !declared.has(n.name))
          .map((n) => n.name)
      : []
  return { nodes: plans, removeNodes }
}

export function applyPlan(db: Database, plan: ConfigPlan, desired: readonly DesiredNode[]): void {
  const nodes = createNodeRepository(db)
  const resources = createResourceRepository(db)
  db.transaction(() => {
    for (const name of plan.removeNodes) nodes.delete(name)
    for (const node of plan.nodes) {
      const settings = desired.find((d) => d.name === node.name)?.settings ?? {}
      if (node.action === 'create') nodes.insert(node.name, settings)
      else nodes.updateSettings(node.name, settings)
      for (const step of node.resources) {
        if (step.action === 'create') resources.insert(node.name, step.kind, step.name, step.spec)
        else if (step.action === 'update') resources.update(node.name, step.kind, step.name, step.spec)
        else if (step.action === 'remove') resources.delete(node.name, step.kind, step.name)
      }
    }
  }).immediate()
}
