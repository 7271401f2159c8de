/**
 * Attribute-based policies (DESIGN §6): a pure library. parsePolicy reads either form,
 * formatPolicy prints the canonical S-expression, evaluatePolicy / compilePolicy decide.
 */
export type {
  AndNode,
  AttributeRef,
  BooleanLiteral,
  CompareNode,
  CompareOperator,
  ExistsNode,
  Literal,
  MemberNode,
  NotNode,
  NumberLiteral,
  Operand,
  OrNode,
  Policy,
  PolicyExpr,
  Scope,
  StringLiteral,
} from './ast.js'
export { DEFAULT_POLICY_MAX_DEPTH, DEFAULT_POLICY_MAX_LENGTH, POLICY_NUMBER_MAX_DIGITS } from './constants.js'
export type { CompiledPolicy, CompilePolicyOptions, PolicyDecision, PolicyInput, PolicySubject } from './evaluate.js'
export { compilePolicy, evaluatePolicy } from './evaluate.js'
export type { FormatPolicyOptions } from './format.js'
export { formatPolicy } from './format.js'
export { isCanonicalNumber } from './numbers.js'
export type { ParsePolicyOptions } from './parse.js'
export { parsePolicy } from './parse.js'
