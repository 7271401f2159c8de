/**
 * The one error catalogue. Every error the runtime raises is an OckamError with a stable
 * `code` (OCKAM_ERR_<AREA>_<WHAT>): callers and tests match on `code`, never on `message`.
 * `message` says what happened; `hint` says what to do about it. Errors cross worker threads
 * as plain objects (toJSON / fromJSON) so the code survives the trip.
 */

export const ERROR_CODES = {
  // Generic
  OCKAM_ERR_INVALID_ARGUMENT: 'an argument is malformed or out of range',
  OCKAM_ERR_ABORTED: 'the operation was aborted by its AbortSignal',
  OCKAM_ERR_TIMEOUT: 'the operation did not complete in time',
  OCKAM_ERR_INTERNAL: 'an invariant was broken inside the runtime (a bug)',
  OCKAM_ERR_NOT_STARTED: 'the component is not started',
  OCKAM_ERR_STOPPED: 'the component is stopping or stopped',

  // Addresses, routes, multiaddrs
  OCKAM_ERR_ADDRESS_INVALID: 'an address is malformed',
  OCKAM_ERR_ROUTE_INVALID: 'a route is malformed or too long',
  OCKAM_ERR_MULTIADDR_INVALID: 'a multiaddr could not be parsed',
  OCKAM_ERR_ROUTE_UNRESOLVED: 'a multiaddr segment cannot be resolved here',

  // Router, workers, mailboxes, access control
  OCKAM_ERR_ROUTER_NO_WORKER: 'no worker is registered at the destination address',
  OCKAM_ERR_ROUTER_ADDRESS_TAKEN: 'a worker is already registered at that address',
  OCKAM_ERR_ROUTER_ACCESS_DENIED: 'the destination does not accept messages from that ingress',
  OCKAM_ERR_ROUTER_NO_DIAL: 'a message from the network asked this node to open a connection',
  OCKAM_ERR_ROUTER_NO_TRANSPORT: 'no transport handles that address type',
  OCKAM_ERR_ROUTER_MAILBOX_FULL: 'the destination mailbox is full',
  OCKAM_ERR_ROUTER_EMPTY_ROUTE: 'a message has no onward route',

  // TCP transport and framing
  OCKAM_ERR_TCP_CONNECT_FAILED: 'a TCP connection could not be opened',
  OCKAM_ERR_TCP_LISTEN_FAILED: 'a TCP listener could not be started',
  OCKAM_ERR_TCP_VERSION_MISMATCH: 'the peer speaks another wire protocol version',
  OCKAM_ERR_TCP_FRAME_TOO_LARGE: 'a frame length exceeds the maximum frame size',
  OCKAM_ERR_TCP_FRAME_MALFORMED: 'a frame body could not be decoded',
  OCKAM_ERR_TCP_FRAME_TIMEOUT: 'a frame was not completed within the frame-completion timeout',
  OCKAM_ERR_TCP_HEARTBEAT_MISSED: 'the peer sent nothing for longer than the liveness timeout',
  OCKAM_ERR_TCP_CONNECTION_CLOSED: 'the connection is closed',
  OCKAM_ERR_TCP_BUFFER_BUDGET: 'the node-wide buffered-bytes budget is exhausted',
  OCKAM_ERR_TCP_TOO_MANY_CONNECTIONS: 'the listener is at its connection limit',

  // Thread pools and thread-hosted services
  OCKAM_ERR_POOL_QUEUE_FULL: 'the thread pool queue is full',
  OCKAM_ERR_POOL_TASK_FAILED: 'a thread pool task failed',
  OCKAM_ERR_THREAD_SERVICE_FAILED: 'a thread-hosted service failed or exited',

  // Config and CLI
  OCKAM_ERR_CONFIG_INVALID: 'the configuration has mistakes',
  OCKAM_ERR_CONFIG_NOT_FOUND: 'the configuration file does not exist',
  OCKAM_ERR_CONFIG_LOAD_FAILED: 'the configuration file could not be loaded',
  OCKAM_ERR_CLI_USAGE: 'the command line is malformed',

  // Crypto providers
  OCKAM_ERR_CRYPTO_AEAD_FAILED: 'authenticated decryption failed (wrong key, nonce, data or tag)',
  OCKAM_ERR_CRYPTO_INVALID_KEY: 'a key is malformed, of small order or non-canonical',
  OCKAM_ERR_CRYPTO_DH_FAILED: 'a Diffie-Hellman result was all zeros (small-order public key)',

  // Noise: handshake state machine and the post-handshake transport (frame) cipher
  OCKAM_ERR_NOISE_UNSUPPORTED: 'the Noise protocol name or cipher suite is not supported',
  OCKAM_ERR_NOISE_MESSAGE_TOO_LARGE: 'a Noise message would exceed the maximum message size',
  OCKAM_ERR_NOISE_MESSAGE_MALFORMED: 'a Noise handshake message or transport frame is truncated or malformed',
  OCKAM_ERR_NOISE_DECRYPT_FAILED: 'a Noise message did not authenticate (tampered, forged or under another key)',
  OCKAM_ERR_NOISE_HANDSHAKE_STATE: 'a handshake step was called out of turn, after the end, or after a failure',
  OCKAM_ERR_NOISE_NONCE_EXHAUSTED: 'a cipher state has used its last nonce',
  OCKAM_ERR_NOISE_REPLAY: 'a transport frame repeats an accepted nonce or is older than the replay window',
  OCKAM_ERR_NOISE_NONCE_GAP: 'an ordered channel received a frame beyond the next nonce: a frame was lost',
  OCKAM_ERR_NOISE_NONCE_TOO_FAR: 'a transport frame claims a nonce more than one rekey interval ahead',
} as const

export type OckamErrorCode = keyof typeof ERROR_CODES

export interface OckamErrorOptions {
  cause?: unknown
  hint?: string
  data?: Record<string, unknown>
}

/** The plain-object form used to carry an error across threads and the control API. */
export interface SerializedOckamError {
  name: 'OckamError'
  code: OckamErrorCode
  message: string
  hint?: string
  data?: Record<string, unknown>
}

export class OckamError extends Error {
  override readonly name = 'OckamError'
  readonly code: OckamErrorCode
  readonly hint: string | undefined
  readonly data: Record<string, unknown> | undefined

  constructor(code: OckamErrorCode, message: string, options: OckamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.hint = options.hint
    this.data = options.data
  }

  /** One line for humans: cause, then what to do. */
  oneLine(): string {
    return this.hint === undefined ? `${this.code}: ${this.message}` : `${this.code}: ${this.message}. ${this.hint}`
  }

  toJSON(): SerializedOckamError {
    const out: SerializedOckamError = { name: 'OckamError', code: this.code, message: this.message }
    if (this.hint !== undefined) out.hint = this.hint
    if (this.data !== undefined) out.data = this.data
    return out
  }

  static fromJSON(value: SerializedOckamError): OckamError {
    const options: OckamErrorOptions = {}
    if (value.hint !== undefined) options.hint = value.hint
    if (value.data !== undefined) options.data = value.data
    return new OckamError(value.code, value.message, options)
  }

  static isSerialized(value: unknown): value is SerializedOckamError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { name?: unknown }).name === 'OckamError' &&
      typeof (value as { code?: unknown }).code === 'string' &&
      (value as { code: string }).code in ERROR_CODES
    )
  }
}

export function isOckamError(error: unknown, code?: OckamErrorCode): error is OckamError {
  return error instanceof OckamError && (code === undefined || error.code === code)
}

/** Converts an AbortSignal's reason into our error shape, keeping the reason as cause. */
export function abortError(signal: AbortSignal, what: string): OckamError {
  return new OckamError('OCKAM_ERR_ABORTED', `${what} was aborted`, { cause: signal.reason })
}

/** Throws OCKAM_ERR_ABORTED when the signal has already fired: the first line of every async operation. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw abortError(signal, what)
}
