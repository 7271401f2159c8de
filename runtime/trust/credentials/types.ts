/** A verified credential: plain data (Map included), so it crosses worker threads intact. */
export interface VerifiedCredential {
  readonly subject: string
  readonly subjectChangeHash: Uint8Array
  readonly issuer: string
  /**
   * Attribute name to value. A Map, not an object, so that names like `constructor` or
   * `__proto__` are plain data and a missing name is really missing.
   */
  readonly attributes: ReadonlyMap<string, string>
  /** Unix seconds. */
  readonly created: number
  /** Unix seconds. */
  readonly expires: number
}
