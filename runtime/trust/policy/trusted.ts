import type { Policy } from './ast.js'
import { assertPolicy } from './validate.js'

// Trees parsePolicy returned: frozen and valid by construction, so never re-validated.
const parsed = new WeakSet<object>()

export function markParsed(policy: Policy): void {
  parsed.add(policy)
}

export function isParsed(value: unknown): boolean {
  return typeof value === 'object' && value !== null && parsed.has(value)
}

/** Trusts parsed trees; validates anything else (hand-built, from JSON) against `maxDepth`. */
export function ensurePolicy(value: unknown, maxDepth: number): asserts value is Policy {
  if (!isParsed(value)) assertPolicy(value, maxDepth)
}
