import type { AttributeRef, Literal, MemberNode, Operand, Policy, PolicyExpr } from './ast.js'
import { DEFAULT_POLICY_MAX_DEPTH } from './constants.js'
import { formatNumber, isCanonicalNumber } from './numbers.js'
import { ensurePolicy, isParsed } from './trusted.js'

/** Who asks: attributes come from credentials attested by the resource's authority. */
export interface PolicySubject {
  readonly identifier: string
  readonly attributes: Readonly<Record<string, string>>
}

export interface PolicyInput {
  readonly subject: PolicySubject
  /** `resource.<name>` attributes (for example the outlet's or relay's own name). */
  readonly resource?: Readonly<Record<string, string>> | undefined
}

export interface PolicyDecision {
  readonly allowed: boolean
  /** Why access was denied; absent when allowed. Names attributes, never their values. */
  readonly reason?: string
}

export interface CompiledPolicy {
  readonly policy: Policy
  /** Never throws: malformed input and evaluation errors deny with a reason. */
  evaluate(input: PolicyInput): PolicyDecision
}

export interface CompilePolicyOptions {
  /** Deepest hand-built tree accepted (default DEFAULT_POLICY_MAX_DEPTH); parsed trees always pass. */
  readonly maxDepth?: number
}

type Value = string | number | boolean
/** undefined = the attribute is missing. */
type Getter = (input: PolicyInput) => Value | undefined
type Test = (input: PolicyInput) => boolean

/**
 * A type or evaluation error: it denies the whole policy, whatever the other clauses say. Not an
 * Error on purpose: capturing a stack trace made each such deny ~100× slower than an allow.
 */
class PolicyDenial {
  constructor(readonly message: string) {}
}

const ALLOW: PolicyDecision = Object.freeze({ allowed: true })
const DENY: PolicyDecision = Object.freeze({ allowed: false, reason: 'the policy does not admit this subject' })

function typeError(message: string): PolicyDenial {
  return new PolicyDenial(`type error: ${message}`)
}

function literalText(node: Literal): string {
  if (node.kind === 'string') return JSON.stringify(node.value)
  return node.kind === 'number' ? formatNumber(node.value) : String(node.value)
}

function label(node: Operand): string {
  return node.kind === 'attribute' ? `${node.scope}.${node.name}` : literalText(node)
}

function reference(node: AttributeRef): Getter {
  const name = node.name
  const where = `${node.scope}.${name}`
  // Own properties only: `subject.constructor` must not find Object.prototype.constructor.
  const read = (map: Readonly<Record<string, unknown>> | undefined): string | undefined => {
    if (map === undefined || !Object.hasOwn(map, name)) return undefined
    const value = map[name]
    if (typeof value !== 'string') throw new PolicyDenial(`${where} is not a string`)
    return value
  }
  if (node.scope === 'resource') return (input) => read(input.resource)
  // A computed name: credentials cannot override who the subject is.
  if (name === 'identifier') return (input) => input.subject.identifier
  return (input) => read(input.subject.attributes)
}

function getter(node: Operand): Getter {
  if (node.kind === 'attribute') return reference(node)
  const value = node.value
  return () => value
}

/** Strings count as numbers when canonical, and as booleans when exactly "true" or "false". */
function equals(a: Value, b: Value, labelA: string, labelB: string): boolean {
  if (typeof a === typeof b) return a === b
  if (typeof a === 'string') return coercedEquals(a, b as number | boolean, labelA, labelB)
  if (typeof b === 'string') return coercedEquals(b, a as number | boolean, labelB, labelA)
  throw typeError(`${labelA} is a ${typeof a} and ${labelB} a ${typeof b}`)
}

function coercedEquals(text: string, other: number | boolean, textLabel: string, otherLabel: string): boolean {
  if (typeof other === 'number') {
    if (!isCanonicalNumber(text)) throw typeError(`${textLabel} is not a canonical number, compared with ${otherLabel}`)
    return Number(text) === other
  }
  if (text === 'true') return other
  if (text === 'false') return !other
  throw typeError(`${textLabel} is not true or false, compared with ${otherLabel}`)
}

function toNumber(value: Value, where: string): number {
  if (typeof value === 'number') return value
  if (typeof value === 'string' && isCanonicalNumber(value)) return Number(value)
  throw typeError(`${where} is not a number (< and > compare numbers)`)
}

function compare(op: '=' | '!=' | '<' | '>', left: Operand, right: Operand): Test {
  const getLeft = getter(left)
  const getRight = getter(right)
  const labelLeft = label(left)
  const labelRight = label(right)
  if (op === '<' || op === '>') {
    const less = op === '<'
    return (input) => {
      const a = getLeft(input)
      const b = getRight(input)
      if (a === undefined || b === undefined) return false
      const x = toNumber(a, labelLeft)
      const y = toNumber(b, labelRight)
      return less ? x < y : x > y
    }
  }
  const negate = op === '!='
  // The common case, an attribute against a string literal, is one strict comparison.
  const literal = right.kind === 'string' ? right.value : left.kind === 'string' ? left.value : undefined
  const other = right.kind === 'string' ? left : right
  if (literal !== undefined && other.kind === 'attribute') {
    const get = getter(other)
    return negate
      ? (input) => {
          const v = get(input)
          return v !== undefined && v !== literal
        }
      : (input) => {
          const v = get(input)
          return v !== undefined && v === literal
        }
  }
  return (input) => {
    const a = getLeft(input)
    const b = getRight(input)
    if (a === undefined || b === undefined) return false
    return equals(a, b, labelLeft, labelRight) !== negate
  }
}

function member(node: MemberNode): Test {
  const get = getter(node.item)
  const where = label(node.item)
  const items = node.list
  const kind = items[0]?.kind
  const values = new Set<Value>(items.map((item) => item.value))
  return (input) => {
    const v = get(input)
    if (v === undefined) return false
    // Same type as the (homogeneous) list: a set lookup, no coercion, no possible error.
    if (typeof v === kind || kind === undefined) return values.has(v)
    // Every item is compared, so an error in any of them denies whatever the order.
    let found = false
    for (const item of items) if (equals(v, item.value, where, literalText(item))) found = true
    return found
  }
}

function compile(node: PolicyExpr): Test {
  switch (node.kind) {
    case 'and': {
      // No short-circuit: every clause runs, so a type error anywhere denies regardless of order.
      const tests = node.args.map(compile)
      return (input) => {
        let result = true
        for (const test of tests) if (!test(input)) result = false
        return result
      }
    }
    case 'or': {
      const tests = node.args.map(compile)
      return (input) => {
        let result = false
        for (const test of tests) if (test(input)) result = true
        return result
      }
    }
    case 'not': {
      const test = compile(node.arg)
      return (input) => !test(input)
    }
    case 'compare':
      return compare(node.op, node.left, node.right)
    case 'member':
      return member(node)
    case 'exists': {
      const get = getter(node.ref)
      return (input) => get(input) !== undefined
    }
    case 'boolean': {
      const value = node.value
      return () => value
    }
  }
}

function isMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null
}

function inputProblem(input: unknown): string | undefined {
  if (!isMap(input)) return 'the input is not an object'
  const { subject, resource } = input as { subject?: unknown; resource?: unknown }
  if (!isMap(subject)) return 'subject is not an object'
  const { identifier, attributes } = subject as { identifier?: unknown; attributes?: unknown }
  if (typeof identifier !== 'string') return 'subject.identifier is not a string'
  if (!isMap(attributes)) return 'subject.attributes is not an object'
  if (resource !== undefined && !isMap(resource)) return 'resource is not an object'
  return undefined
}

function run(test: Test, input: PolicyInput): PolicyDecision {
  const problem = inputProblem(input)
  if (problem !== undefined) return { allowed: false, reason: `malformed input: ${problem}` }
  try {
    return test(input) ? ALLOW : DENY
  } catch (error) {
    if (error instanceof PolicyDenial) return { allowed: false, reason: error.message }
    return { allowed: false, reason: `evaluation failed: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/**
 * Turns a policy into a tree of closures (the fast path: no AST walk, literals and sets
 * prepared once). Throws OCKAM_ERR_POLICY_INVALID / _TOO_LARGE for a malformed hand-built tree.
 */
export function compilePolicy(policy: Policy, options: CompilePolicyOptions = {}): CompiledPolicy {
  ensurePolicy(policy, options.maxDepth ?? DEFAULT_POLICY_MAX_DEPTH)
  const test = compile(policy)
  return Object.freeze({ policy, evaluate: (input: PolicyInput) => run(test, input) })
}

// Compiled forms of parsed (deeply frozen) trees, so evaluatePolicy compiles each policy once.
const compiled = new WeakMap<object, CompiledPolicy>()

/**
 * Decides whether `input.subject` may use the resource. Never throws: a missing attribute makes
 * its comparison false; a type error, malformed input or malformed tree denies with a reason.
 */
export function evaluatePolicy(policy: Policy, input: PolicyInput): PolicyDecision {
  let entry = isParsed(policy) ? compiled.get(policy) : undefined
  if (entry === undefined) {
    try {
      entry = compilePolicy(policy)
    } catch (error) {
      return { allowed: false, reason: `invalid policy: ${error instanceof Error ? error.message : String(error)}` }
    }
    if (isParsed(policy)) compiled.set(policy, entry)
  }
  return entry.evaluate(input)
}
