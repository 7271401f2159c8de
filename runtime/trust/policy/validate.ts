import { OckamError } from '../../errors.js'
import type { AttributeRef, Literal, Operand, Policy, PolicyExpr } from './ast.js'
import { isControl, isNameChar, isNameStart } from './chars.js'
import { POLICY_NUMBER_MAX_DIGITS } from './constants.js'
import { isCanonicalNumber, isPolicyNumber } from './numbers.js'

/**
 * Checks a tree built by hand (or read back from JSON) against everything the parser
 * guarantees, so that formatting it yields text that parses back to it and compiling it cannot
 * recurse without bound. Trees from parsePolicy skip this: they are valid by construction.
 */
export function assertPolicy(value: unknown, maxDepth: number): asserts value is Policy {
  expr(value, 'policy', 1, maxDepth)
}

function invalid(path: string, what: string): OckamError {
  return new OckamError('OCKAM_ERR_POLICY_INVALID', `${path} is not ${what}`, {
    hint: 'build policies with parsePolicy, or follow the node shapes in runtime/trust/policy/ast.ts',
    data: { path },
  })
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, 'an object')
  return value as Record<string, unknown>
}

function array(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(path, 'an array')
  return value
}

function expr(value: unknown, path: string, depth: number, maxDepth: number): asserts value is PolicyExpr {
  if (depth > maxDepth) {
    throw new OckamError('OCKAM_ERR_POLICY_TOO_LARGE', `${path} nests deeper than ${maxDepth} levels`, {
      hint: 'flatten the policy or raise maxDepth',
      data: { path, limit: maxDepth },
    })
  }
  const node = record(value, path)
  switch (node.kind) {
    case 'and':
    case 'or': {
      const args = array(node.args, `${path}.args`)
      if (args.length === 0) throw invalid(`${path}.args`, 'a non-empty array')
      args.forEach((arg, i) => {
        expr(arg, `${path}.args[${i}]`, depth + 1, maxDepth)
      })
      return
    }
    case 'not':
      expr(node.arg, `${path}.arg`, depth + 1, maxDepth)
      return
    case 'compare': {
      const op = node.op
      if (op !== '=' && op !== '!=' && op !== '<' && op !== '>') throw invalid(`${path}.op`, 'one of = != < >')
      const numeric = op === '<' || op === '>'
      comparand(node.left, `${path}.left`, numeric)
      comparand(node.right, `${path}.right`, numeric)
      return
    }
    case 'member': {
      operand(node.item, `${path}.item`)
      const list = array(node.list, `${path}.list`)
      let kind: unknown
      list.forEach((item, i) => {
        literal(item, `${path}.list[${i}]`)
        if (i === 0) kind = item.kind
        else if (item.kind !== kind) throw invalid(`${path}.list[${i}]`, `a ${String(kind)} like the first item`)
      })
      return
    }
    case 'exists':
      reference(node.ref, `${path}.ref`)
      return
    case 'boolean':
      if (typeof node.value !== 'boolean') throw invalid(`${path}.value`, 'a boolean')
      return
    default:
      throw invalid(`${path}.kind`, 'one of and, or, not, compare, member, exists, boolean')
  }
}

function comparand(value: unknown, path: string, numeric: boolean): void {
  operand(value, path)
  if (!numeric) return
  const ok =
    value.kind === 'attribute' || value.kind === 'number' || (value.kind === 'string' && isCanonicalNumber(value.value))
  if (!ok) throw invalid(path, 'a number or an attribute (< and > compare numbers)')
}

function operand(value: unknown, path: string): asserts value is Operand {
  const node = record(value, path)
  if (node.kind === 'attribute') reference(node, path)
  else literal(node, path)
}

function reference(value: unknown, path: string): asserts value is AttributeRef {
  const node = record(value, path)
  if (node.kind !== 'attribute') throw invalid(`${path}.kind`, 'attribute')
  if (node.scope !== 'subject' && node.scope !== 'resource') throw invalid(`${path}.scope`, 'subject or resource')
  const name = node.name
  if (typeof name !== 'string' || name === '' || !isNameStart(name.charCodeAt(0))) {
    throw invalid(`${path}.name`, 'an attribute name')
  }
  for (let i = 1; i < name.length; i++) {
    if (!isNameChar(name.charCodeAt(i))) throw invalid(`${path}.name`, 'an attribute name')
  }
}

function literal(value: unknown, path: string): asserts value is Literal {
  const node = record(value, path)
  switch (node.kind) {
    case 'string': {
      const text = node.value
      if (typeof text !== 'string') throw invalid(`${path}.value`, 'a string')
      for (let i = 0; i < text.length; i++) {
        if (isControl(text.charCodeAt(i))) throw invalid(`${path}.value`, 'a string without control characters')
      }
      return
    }
    case 'number':
      if (typeof node.value !== 'number' || !isPolicyNumber(node.value)) {
        throw invalid(`${path}.value`, `a finite number of at most ${POLICY_NUMBER_MAX_DIGITS} digits (not -0)`)
      }
      return
    case 'boolean':
      if (typeof node.value !== 'boolean') throw invalid(`${path}.value`, 'a boolean')
      return
    default:
      throw invalid(`${path}.kind`, 'one of string, number, boolean')
  }
}
