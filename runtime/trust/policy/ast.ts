/**
 * The policy tree. Plain, JSON-serialisable data: `parsePolicy` builds it (deeply frozen),
 * `formatPolicy` prints it, `compilePolicy` turns it into a closure tree.
 */

export type Scope = 'subject' | 'resource'

/** `subject.<name>` or `resource.<name>`; `subject.identifier` is the subject's identifier. */
export interface AttributeRef {
  readonly kind: 'attribute'
  readonly scope: Scope
  readonly name: string
}

export interface StringLiteral {
  readonly kind: 'string'
  readonly value: string
}

/** Finite, never -0, at most POLICY_NUMBER_MAX_DIGITS digits when written canonically. */
export interface NumberLiteral {
  readonly kind: 'number'
  readonly value: number
}

export interface BooleanLiteral {
  readonly kind: 'boolean'
  readonly value: boolean
}

export type Literal = StringLiteral | NumberLiteral | BooleanLiteral

export type Operand = AttributeRef | Literal

export type CompareOperator = '=' | '!=' | '<' | '>'

export interface AndNode {
  readonly kind: 'and'
  /** At least one: an empty `and` would silently admit everyone. */
  readonly args: readonly PolicyExpr[]
}

export interface OrNode {
  readonly kind: 'or'
  readonly args: readonly PolicyExpr[]
}

export interface NotNode {
  readonly kind: 'not'
  readonly arg: PolicyExpr
}

export interface CompareNode {
  readonly kind: 'compare'
  readonly op: CompareOperator
  readonly left: Operand
  readonly right: Operand
}

export interface MemberNode {
  readonly kind: 'member'
  readonly item: Operand
  /** Items all of one kind (all strings, all numbers or all booleans). */
  readonly list: readonly Literal[]
}

export interface ExistsNode {
  readonly kind: 'exists'
  readonly ref: AttributeRef
}

export type PolicyExpr = AndNode | OrNode | NotNode | CompareNode | MemberNode | ExistsNode | BooleanLiteral

/** A policy is its root expression. */
export type Policy = PolicyExpr

/** The S-expression operator symbols, in the order error messages list them. */
export const OPERATOR_SYMBOLS = ['and', 'or', 'not', '=', '!=', '<', '>', 'member?', 'exists?'] as const
export type OperatorSymbol = (typeof OPERATOR_SYMBOLS)[number]

export function isOperatorSymbol(word: string): word is OperatorSymbol {
  return (OPERATOR_SYMBOLS as readonly string[]).includes(word)
}
