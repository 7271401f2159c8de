import type { Literal, Operand, Policy, PolicyExpr } from './ast.js'
import { DEFAULT_POLICY_MAX_DEPTH } from './constants.js'
import { formatNumber } from './numbers.js'
import { ensurePolicy } from './trusted.js'

export interface FormatPolicyOptions {
  /** Deepest hand-built tree accepted (default DEFAULT_POLICY_MAX_DEPTH); parsed trees always pass. */
  readonly maxDepth?: number
}

function literal(node: Literal): string {
  switch (node.kind) {
    case 'string':
      return `"${node.value.replace(/[\\"]/g, '\\$&')}"`
    case 'number':
      return formatNumber(node.value)
    case 'boolean':
      return node.value ? 'true' : 'false'
  }
}

function operand(node: Operand): string {
  return node.kind === 'attribute' ? `${node.scope}.${node.name}` : literal(node)
}

export function formatExpr(node: PolicyExpr): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return `(${node.kind} ${node.args.map(formatExpr).join(' ')})`
    case 'not':
      return `(not ${formatExpr(node.arg)})`
    case 'compare':
      return `(${node.op} ${operand(node.left)} ${operand(node.right)})`
    case 'member':
      return `(member? ${operand(node.item)} [${node.list.map(literal).join(', ')}])`
    case 'exists':
      return `(exists? ${operand(node.ref)})`
    case 'boolean':
      return node.value ? 'true' : 'false'
  }
}

/**
 * The canonical text of a policy: one S-expression on one line, single spaces, lists as
 * `[a, b]`, numbers canonical (a lone true/false prints as such). parsePolicy(formatPolicy(p))
 * deep-equals p. Throws OCKAM_ERR_POLICY_INVALID / _TOO_LARGE for a malformed hand-built tree.
 */
export function formatPolicy(policy: Policy, options: FormatPolicyOptions = {}): string {
  ensurePolicy(policy, options.maxDepth ?? DEFAULT_POLICY_MAX_DEPTH)
  return formatExpr(policy)
}
