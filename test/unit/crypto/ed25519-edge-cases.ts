/**
 * Ed25519 edge cases in the twelve categories of "Taming the many EdDSAs" (Chalkias, Garillot,
 * Nikolaenko, 2020), derived here rather than copied: each case is built from its description
 * with noble's point arithmetic, so the reason a case verifies (or not) is visible in its recipe.
 *
 * Every point is written aB + mT, with B the base point and T a generator of the torsion
 * subgroup (order 8). A signature (R = rB + jT, S) on message M for A verifies:
 * - cofactored, [8]SB = [8]R + [8]kA, whenever S ≡ r + k·a (mod L);
 * - cofactorless, SB = R + kA, when moreover j + k·m ≡ 0 (mod 8), k = SHA-512(R ‖ A ‖ M) mod L.
 * The recipe searches M (a counter suffix) until the torsion condition it wants holds.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { ED25519_L, ED25519_P } from '../../../runtime/trust/crypto/ed25519-strict.js'

const { Point } = ed25519
type EdPoint = InstanceType<typeof Point>

const B = Point.BASE
/** A generator of the torsion subgroup: any point of order exactly 8. */
export const T8: EdPoint = Point.fromHex(ED25519_TORSION_SUBGROUP[1] as string)

const le32 = (n: bigint): Uint8Array => numberToBytesLE(n, 32)
const mod = (n: bigint, m: bigint): bigint => ((n % m) + m) % m

function scalarFrom(label: string): bigint {
  return mod(bytesToNumberLE(sha512(new TextEncoder().encode(label))), ED25519_L)
}

function torsion(index: number): EdPoint {
  return T8.multiplyUnsafe(BigInt(mod(BigInt(index), 8n)))
}

function point(scalar: bigint, torsionIndex: number): EdPoint {
  const prime = scalar === 0n ? Point.ZERO : B.multiply(scalar)
  return prime.add(torsion(torsionIndex))
}

/** Every encoding (canonical or not) of a small-order point, with the torsion index it decodes to. */
export interface SmallOrderEncoding {
  readonly name: string
  readonly bytes: Uint8Array
  readonly canonical: boolean
  readonly index: number
}

function withSignBit(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  out[31] = (out[31] as number) | 0x80
  return out
}

function indexOf(p: EdPoint): number {
  for (let i = 0; i < 8; i++) if (torsion(i).equals(p)) return i
  throw new Error('not a torsion point')
}

/** The 8 canonical encodings of the torsion points and the 6 non-canonical ones (y ≥ p, or x = 0 with sign 1). */
export const SMALL_ORDER_ENCODINGS: readonly SmallOrderEncoding[] = (() => {
  const out: SmallOrderEncoding[] = []
  for (let i = 0; i < 8; i++) {
    out.push({ name: `${i}T canonical`, bytes: torsion(i).toBytes(), canonical: true, index: i })
  }
  const nonCanonical: [string, Uint8Array][] = [
    ['identity, sign bit set', withSignBit(le32(1n))],
    ['order 2, sign bit set', withSignBit(le32(ED25519_P - 1n))],
    ['y = p (order 4)', le32(ED25519_P)],
    ['y = p (order 4), sign bit set', withSignBit(le32(ED25519_P))],
    ['y = p + 1 (identity)', le32(ED25519_P + 1n)],
    ['y = p + 1 (identity), sign bit set', withSignBit(le32(ED25519_P + 1n))],
  ]
  for (const [name, bytes] of nonCanonical) {
    // zip215 = true is noble's lenient decoder: what a permissive verifier would see.
    out.push({ name, bytes, canonical: false, index: indexOf(Point.fromBytes(bytes, true)) })
  }
  return out
})()

export interface EdgeCase {
  readonly name: string
  readonly publicKey: Uint8Array
  readonly message: Uint8Array
  readonly signature: Uint8Array
  /** SB = R + kA holds for a decoder that takes the encodings as given (reducing y mod p). */
  readonly cofactorless: boolean
  /** [8]SB = [8]R + [8]kA holds likewise. */
  readonly cofactored: boolean
  /** What the strict policy answers: canonical, non-small-order A and R, S < L, cofactorless. */
  readonly strict: boolean
}

interface Recipe {
  readonly name: string
  /** A = aB + mT, optionally under another encoding of the same point. */
  readonly a: bigint
  readonly m: number
  readonly aBytes?: Uint8Array
  /** R = rB + jT, optionally under another encoding of the same point. */
  readonly r: bigint
  readonly j: number
  readonly rBytes?: Uint8Array
  /** Whether the message search wants j + k·m ≡ 0 (mod 8). */
  readonly cofactorless: boolean
  /** Added to S after signing: a multiple of L keeps both equations true for unreduced S. */
  readonly sPlus?: bigint
  readonly strict: boolean
}

const MAX_MESSAGE_SEARCH = 2000

function craft(recipe: Recipe): EdgeCase {
  const A = point(recipe.a, recipe.m)
  const R = point(recipe.r, recipe.j)
  const aBytes = recipe.aBytes ?? A.toBytes()
  const rBytes = recipe.rBytes ?? R.toBytes()
  if (!Point.fromBytes(aBytes, true).equals(A) || !Point.fromBytes(rBytes, true).equals(R)) {
    throw new Error(`${recipe.name}: an encoding override does not decode to the intended point`)
  }
  const prefix = new TextEncoder().encode(`taming: ${recipe.name} #`)
  for (let i = 0; i < MAX_MESSAGE_SEARCH; i++) {
    const message = new Uint8Array([...prefix, ...new TextEncoder().encode(String(i))])
    const k = mod(bytesToNumberLE(sha512(new Uint8Array([...rBytes, ...aBytes, ...message]))), ED25519_L)
    const torsionVanishes = mod(BigInt(recipe.j) + k * BigInt(recipe.m), 8n) === 0n
    if (torsionVanishes !== recipe.cofactorless) continue
    const s = mod(recipe.r + k * recipe.a, ED25519_L) + (recipe.sPlus ?? 0n)
    return {
      name: recipe.name,
      publicKey: aBytes,
      message,
      signature: new Uint8Array([...rBytes, ...le32(s)]),
      cofactorless: recipe.cofactorless,
      cofactored: true,
      strict: recipe.strict,
    }
  }
  throw new Error(`${recipe.name}: no message found in ${MAX_MESSAGE_SEARCH} tries`)
}

function encodingNamed(name: string): SmallOrderEncoding {
  const found = SMALL_ORDER_ENCODINGS.find((e) => e.name === name)
  if (found === undefined) throw new Error(`no encoding ${name}`)
  return found
}

/** The twelve categories of the paper, built afresh; expected answers per the strict policy. */
export function tamingCases(): EdgeCase[] {
  const a = scalarFrom('taming a')
  const r = scalarFrom('taming r')
  const identitySign = encodingNamed('identity, sign bit set')
  const identityBig = encodingNamed('y = p + 1 (identity)')
  const order4 = encodingNamed('y = p (order 4)')
  return [
    craft({
      name: '0: S = 0, small-order A, small-order R',
      a: 0n,
      m: 2,
      r: 0n,
      j: 0,
      cofactorless: true,
      strict: false,
    }),
    craft({ name: '1: small-order A, mixed-order R', a: 0n, m: 4, r, j: 4, cofactorless: true, strict: false }),
    craft({ name: '2: mixed-order A, small-order R', a, m: 1, r: 0n, j: 4, cofactorless: true, strict: false }),
    craft({ name: '3: mixed-order A and R, cofactorless holds', a, m: 1, r, j: 3, cofactorless: true, strict: true }),
    craft({
      name: '4: mixed-order A and R, only cofactored holds',
      a,
      m: 1,
      r,
      j: 3,
      cofactorless: false,
      strict: false,
    }),
    craft({
      name: '5: mixed-order A, prime-order R, only cofactored holds',
      a,
      m: 1,
      r,
      j: 0,
      cofactorless: false,
      strict: false,
    }),
    craft({ name: '6: S + L (S >= L)', a, m: 0, r, j: 0, cofactorless: true, sPlus: ED25519_L, strict: false }),
    craft({
      name: '7: S + 15L (S >= 2^253)',
      a,
      m: 0,
      r,
      j: 0,
      cofactorless: true,
      sPlus: 15n * ED25519_L,
      strict: false,
    }),
    craft({
      name: '8: non-canonical R (identity with the sign bit set)',
      a,
      m: 0,
      r: 0n,
      j: identitySign.index,
      rBytes: identitySign.bytes,
      cofactorless: true,
      strict: false,
    }),
    craft({
      name: '9: non-canonical R (identity as y = p + 1)',
      a,
      m: 0,
      r: 0n,
      j: identityBig.index,
      rBytes: identityBig.bytes,
      cofactorless: true,
      strict: false,
    }),
    craft({
      name: '10: non-canonical A (identity as y = p + 1)',
      a: 0n,
      m: identityBig.index,
      aBytes: identityBig.bytes,
      r,
      j: 0,
      cofactorless: true,
      strict: false,
    }),
    craft({
      name: '11: non-canonical A (order 4 as y = p)',
      a: 0n,
      m: order4.index,
      aBytes: order4.bytes,
      r,
      j: 0,
      cofactorless: true,
      strict: false,
    }),
  ]
}

/** Each small-order encoding used as A and as R of a signature that holds cofactorless for a lenient decoder. */
export function smallOrderCases(): EdgeCase[] {
  const a = scalarFrom('small a')
  const r = scalarFrom('small r')
  const out: EdgeCase[] = []
  for (const e of SMALL_ORDER_ENCODINGS) {
    out.push(
      craft({ name: `A = ${e.name}`, a: 0n, m: e.index, aBytes: e.bytes, r, j: 0, cofactorless: true, strict: false }),
    )
    out.push(
      craft({
        name: `R = ${e.name}`,
        a,
        m: 0,
        r: 0n,
        j: e.index,
        rBytes: e.bytes,
        cofactorless: e.index === 0,
        strict: false,
      }),
    )
  }
  return out
}

/** A valid prime-order signature to mutate: (a, r) fixed, so the case is reproducible. */
export function primeOrderCase(): EdgeCase {
  return craft({
    name: 'prime-order A and R',
    a: scalarFrom('prime a'),
    m: 0,
    r: scalarFrom('prime r'),
    j: 0,
    cofactorless: true,
    strict: true,
  })
}

/**
 * Encodings with y in [p, 2^255) whose y mod p is on the curve but not small order: nobody knows
 * their discrete log, so no signature verifies under them; the strict policy refuses them first.
 */
export function nonCanonicalPrimeOrderEncodings(): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let c = 2n; c < 19n; c++) {
    const bytes = le32(ED25519_P + c)
    try {
      Point.fromBytes(bytes, true)
      out.push(bytes)
    } catch {
      // y mod p is not on the curve: no point has this y.
    }
  }
  return out
}

export { ED25519_L, ED25519_P }
