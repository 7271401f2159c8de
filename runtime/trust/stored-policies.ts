/**
 * Policies stored in the state folder (DESIGN §6, §8): one per resource (an outlet, inlet or
 * relay by name) and one per resource type. The resource's own policy wins over its type's.
 * Texts are parsed before they are stored and stored in canonical form (formatPolicy), so what
 * `policy show` prints is what is enforced, and every stored text parses again.
 */
import type { Database } from 'better-sqlite3'
import { isOckamError, OckamError } from '../errors.js'
import { createPolicyRepository, type PolicyRow, type PolicyTargetKind } from '../state/policy-repository.js'
import type { Policy } from './policy/ast.js'
import { formatPolicy } from './policy/format.js'
import { parsePolicy } from './policy/parse.js'

/**
 * The resource types a policy can be stored for. A fixed list, because a misspelt type
 * (`tcp-outlets`) would store a policy that never applies, silently. Extend it when a new kind
 * of resource takes policies.
 */
export const POLICY_RESOURCE_TYPES = ['tcp-outlet', 'tcp-inlet', 'relay'] as const

export type PolicyResourceType = (typeof POLICY_RESOURCE_TYPES)[number]

/** Resource names: a letter or digit, then letters, digits, `_ - . :`; at most MAX_RESOURCE_NAME_LENGTH. */
export const RESOURCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/

/** Longest resource name, in characters. */
export const MAX_RESOURCE_NAME_LENGTH = 128

export type PolicyTarget =
  | { readonly kind: 'resource'; readonly name: string }
  | { readonly kind: 'resource-type'; readonly name: PolicyResourceType }

export interface StoredPolicy {
  readonly target: PolicyTarget
  /** Canonical S-expression text. */
  readonly expression: string
  /** The parsed policy, ready for compilePolicy / evaluatePolicy. */
  readonly policy: Policy
  /** Unix ms. */
  readonly createdAt: number
  readonly updatedAt: number
}

export interface PolicyStore {
  /**
   * Parses `text` (either form) and stores its canonical form for `target`, replacing any
   * policy there. Throws OCKAM_ERR_POLICY_PARSE / _TOO_LARGE (position and what was expected),
   * OCKAM_ERR_POLICY_TARGET_INVALID.
   */
  set(target: PolicyTarget, text: string): { readonly policy: StoredPolicy; readonly replaced: boolean }
  get(target: PolicyTarget): StoredPolicy | undefined
  /** Resources first, then resource types, each by name. */
  list(): StoredPolicy[]
  /** False when there was none. */
  delete(target: PolicyTarget): boolean
  /** The policy in force for a resource: its own, else its type's, else undefined. */
  effective(resource: string, type: PolicyResourceType): StoredPolicy | undefined
}

export interface PolicyStoreOptions {
  /** Clock, Unix ms; default Date.now. */
  readonly now?: () => number
}

export function createPolicyStore(db: Database, options: PolicyStoreOptions = {}): PolicyStore {
  const repository = createPolicyRepository(db)
  const now = options.now ?? Date.now
  const get = (target: PolicyTarget): StoredPolicy | undefined => {
    checkTarget(target)
    const row = repository.get(target.kind, target.name)
    return row === undefined ? undefined : load(row)
  }
  return {
    set(target, text) {
      checkTarget(target)
      const expression = formatPolicy(parsePolicy(text))
      const { row, replaced } = repository.put(target.kind, target.name, expression, now())
      return { policy: load(row), replaced }
    },
    get,
    list: () => repository.list().map(load),
    delete(target) {
      checkTarget(target)
      return repository.delete(target.kind, target.name)
    },
    effective: (resource, type) =>
      get({ kind: 'resource', name: resource }) ?? get({ kind: 'resource-type', name: type }),
  }
}

/** Throws OCKAM_ERR_POLICY_TARGET_INVALID for a malformed resource name or an unknown resource type. */
export function checkTarget(target: PolicyTarget): void {
  const kind: PolicyTargetKind = target.kind
  const name: unknown = target.name
  if (kind === 'resource-type') {
    if (!(POLICY_RESOURCE_TYPES as readonly unknown[]).includes(name)) {
      throw new OckamError('OCKAM_ERR_POLICY_TARGET_INVALID', `unknown resource type ${show(name)}`, {
        hint: `use one of ${POLICY_RESOURCE_TYPES.join(', ')}`,
        data: { kind },
      })
    }
    return
  }
  if (kind === 'resource') {
    if (typeof name !== 'string' || name.length > MAX_RESOURCE_NAME_LENGTH || !RESOURCE_NAME_PATTERN.test(name)) {
      throw new OckamError('OCKAM_ERR_POLICY_TARGET_INVALID', `${show(name)} is not a valid resource name`, {
        hint: `use 1 to ${MAX_RESOURCE_NAME_LENGTH} letters, digits, '_', '-', '.' or ':', starting with a letter or digit`,
        data: { kind },
      })
    }
    return
  }
  throw new OckamError('OCKAM_ERR_POLICY_TARGET_INVALID', `unknown policy target kind ${show(kind)}`, {
    hint: "use 'resource' or 'resource-type'",
  })
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value
}

function load(row: PolicyRow): StoredPolicy {
  let policy: Policy
  try {
    policy = parsePolicy(row.expression)
  } catch (cause) {
    throw new OckamError(
      'OCKAM_ERR_STATE_RECORD_CORRUPT',
      `the stored policy of ${row.kind} ${row.target} does not parse`,
      {
        cause,
        hint: 'the state database was modified outside ockam-runtime; delete and create the policy again',
        ...(isOckamError(cause) ? { data: { cause: cause.code } } : {}),
      },
    )
  }
  const target = { kind: row.kind, name: row.target } as PolicyTarget
  return { target, expression: row.expression, policy, createdAt: row.createdAt, updatedAt: row.updatedAt }
}
