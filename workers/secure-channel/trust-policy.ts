/**
 * Whom a side of a secure channel accepts as its peer (DESIGN §6, §12):
 * - `anyone`: any identity that proves itself (history, attested static key);
 * - `identifiers`: one of these identifiers;
 * - `members`: holders of at least one valid credential from a trusted authority whose attested
 *   attributes satisfy a policy expression (absent = any member).
 *
 * Every kind first requires a verified identity whose attested secure-channel key is the Noise
 * static key of the handshake; the policy only decides among such peers. Attributes come only
 * from credentials verified against the identity material's trusted authorities, so a forged,
 * expired or foreign credential adds nothing.
 */
import { OckamError } from '../../runtime/errors.js'
import type { VerifiedCredential } from '../../runtime/trust/credentials/types.js'
import { isIdentifier } from '../../runtime/trust/identity/identifier.js'
import type { Policy } from '../../runtime/trust/policy/ast.js'
import { evaluatePolicy, type PolicyDecision } from '../../runtime/trust/policy/evaluate.js'
import { parsePolicy } from '../../runtime/trust/policy/parse.js'

export type TrustPolicy =
  | { readonly kind: 'anyone' }
  | { readonly kind: 'identifiers'; readonly identifiers: ReadonlySet<string> }
  | {
      readonly kind: 'members'
      readonly policy?: Policy
      /** `resource.*` attributes the expression may test. */
      readonly resource?: Readonly<Record<string, string>>
    }
  /** Admitted when any of these admits (a node's own identities, or the members of its project). */
  | { readonly kind: 'any-of'; readonly policies: readonly TrustPolicy[] }

export function trustAnyone(): TrustPolicy {
  return { kind: 'anyone' }
}

export function trustIdentifiers(...identifiers: string[]): TrustPolicy {
  if (identifiers.length === 0) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'trustIdentifiers needs at least one identifier')
  }
  for (const identifier of identifiers) {
    if (!isIdentifier(identifier)) {
      throw new OckamError(
        'OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER',
        `${JSON.stringify(identifier)} is not an identifier`,
        {
          hint: 'an identifier is I followed by 64 lowercase hex digits',
        },
      )
    }
  }
  return { kind: 'identifiers', identifiers: new Set(identifiers) }
}

/** Members of the trusted authority, optionally only those whose attributes satisfy `policy`. */
export function trustMembers(policy?: Policy | string, resource?: Readonly<Record<string, string>>): TrustPolicy {
  const parsed = typeof policy === 'string' ? parsePolicy(policy) : policy
  return {
    kind: 'members',
    ...(parsed === undefined ? {} : { policy: parsed }),
    ...(resource === undefined ? {} : { resource }),
  }
}

/** A peer any of `policies` admits. */
export function trustAnyOf(...policies: TrustPolicy[]): TrustPolicy {
  if (policies.length === 0) throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'trustAnyOf needs at least one policy')
  return { kind: 'any-of', policies }
}

/** Fails early on a policy that can never admit anyone with this identity material. */
export function checkTrustPolicy(policy: TrustPolicy, trustedAuthorities: readonly unknown[]): void {
  if (policy === null || typeof policy !== 'object') {
    throw new OckamError(
      'OCKAM_ERR_INVALID_ARGUMENT',
      'a trust policy is required (trustAnyone, trustIdentifiers, trustMembers)',
    )
  }
  if (policy.kind === 'any-of') {
    for (const inner of policy.policies) checkTrustPolicy(inner, trustedAuthorities)
    return
  }
  if (policy.kind === 'members' && trustedAuthorities.length === 0) {
    throw new OckamError('OCKAM_ERR_INVALID_ARGUMENT', 'a members trust policy needs at least one trusted authority', {
      hint: 'give the identity material its authority, or trust identifiers instead',
    })
  }
  if (policy.kind !== 'anyone' && policy.kind !== 'identifiers' && policy.kind !== 'members') {
    throw new OckamError(
      'OCKAM_ERR_INVALID_ARGUMENT',
      `unknown trust policy kind ${String((policy as { kind: unknown }).kind)}`,
    )
  }
}

export interface PeerFacts {
  readonly identifier: string
  /** Attributes of the peer's currently valid credentials. */
  readonly attributes: Readonly<Record<string, string>>
  /** Valid credentials from a trusted authority (membership). */
  readonly credentialCount: number
}

/**
 * The decision. `phase: 'identity'` is what the initiator can decide on message 2, before the
 * responder has disclosed credentials: a members policy is deferred (allowed here, decided when
 * the credentials arrive, before the channel is usable).
 */
export function decideTrust(policy: TrustPolicy, peer: PeerFacts, phase: 'identity' | 'complete'): PolicyDecision {
  switch (policy.kind) {
    case 'anyone':
      return { allowed: true }
    case 'identifiers':
      return policy.identifiers.has(peer.identifier)
        ? { allowed: true }
        : { allowed: false, reason: `${peer.identifier} is not among the trusted identifiers` }
    case 'members': {
      if (phase === 'identity') return { allowed: true }
      if (peer.credentialCount === 0) {
        return { allowed: false, reason: 'the peer holds no valid credential from a trusted authority' }
      }
      if (policy.policy === undefined) return { allowed: true }
      return evaluatePolicy(policy.policy, {
        subject: { identifier: peer.identifier, attributes: peer.attributes },
        resource: policy.resource,
      })
    }
    case 'any-of': {
      const reasons: string[] = []
      for (const inner of policy.policies) {
        const decision = decideTrust(inner, peer, phase)
        if (decision.allowed) return decision
        if (decision.reason !== undefined) reasons.push(decision.reason)
      }
      return { allowed: false, reason: reasons.join('; ') }
    }
  }
}

/**
 * The attributes of `credentials` still valid at `now` (Unix seconds, with the clock skew the
 * credential check allows), merged in presentation order. A null-prototype frozen record: an
 * attribute named `constructor` or `__proto__` is plain data.
 */
export function attributesOf(
  credentials: readonly VerifiedCredential[],
  now: number,
  skewSeconds: number,
): { attributes: Readonly<Record<string, string>>; valid: number; nextExpiry: number | undefined } {
  const attributes = Object.create(null) as Record<string, string>
  let valid = 0
  let nextExpiry: number | undefined
  for (const credential of credentials) {
    const end = credential.expires + skewSeconds
    if (now >= end) continue
    valid += 1
    nextExpiry = nextExpiry === undefined ? end : Math.min(nextExpiry, end)
    for (const [name, value] of credential.attributes) attributes[name] = value
  }
  return { attributes: Object.freeze(attributes), valid, nextExpiry }
}
