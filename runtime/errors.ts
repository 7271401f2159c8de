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

  // Trust: deterministic CBOR, identities, purpose keys, credentials
  OCKAM_ERR_CBOR_TOO_LARGE: 'a CBOR input is larger than the maximum accepted size',
  OCKAM_ERR_CBOR_TOO_DEEP: 'a CBOR input nests arrays or maps deeper than the maximum depth',
  OCKAM_ERR_CBOR_MALFORMED: 'a CBOR input is truncated or not well-formed',
  OCKAM_ERR_CBOR_TRAILING_BYTES: 'a CBOR input has bytes after its single data item',
  OCKAM_ERR_CBOR_INDEFINITE_LENGTH: 'a CBOR input uses an indefinite length, which signed data forbids',
  OCKAM_ERR_CBOR_DUPLICATE_KEY: 'a CBOR map repeats a key',
  OCKAM_ERR_CBOR_NON_CANONICAL:
    'a CBOR input is not in deterministic encoding (non-minimal integer or length, map order, text)',
  OCKAM_ERR_CBOR_UNSUPPORTED:
    'a CBOR input uses a type outside the profile (tag, float, simple value, big integer, non-text map key)',
  OCKAM_ERR_CBOR_SCHEMA: 'a CBOR value does not have the expected structure',
  OCKAM_ERR_CBOR_UNENCODABLE: 'a value cannot be encoded as deterministic CBOR',
  OCKAM_ERR_IDENTITY_INVALID_IDENTIFIER: 'an identifier is not I followed by 64 lowercase hex digits',
  OCKAM_ERR_IDENTITY_UNSUPPORTED_VERSION: 'an identity change has a version this runtime does not know',
  OCKAM_ERR_IDENTITY_BROKEN_CHAIN: 'an identity change does not follow the previous change',
  OCKAM_ERR_IDENTITY_BAD_SIGNATURE: 'an identity change signature does not verify',
  OCKAM_ERR_IDENTITY_INVALID_TIMES: 'an identity change has inconsistent creation or expiry times',
  OCKAM_ERR_IDENTITY_EXPIRED: 'the current primary key of an identity has expired',
  OCKAM_ERR_IDENTITY_NOT_YET_VALID: 'the current primary key of an identity is created in the future',
  OCKAM_ERR_IDENTITY_TOO_MANY_CHANGES: 'an identity history has more changes than allowed',
  OCKAM_ERR_IDENTITY_KEY_MISMATCH: 'the signing key handle does not hold the key the identity expects',
  OCKAM_ERR_IDENTITY_ROLLBACK: 'an identity history is older than the one already verified (rollback)',
  OCKAM_ERR_IDENTITY_FORK: 'an identity history diverges from the one already verified (fork)',
  OCKAM_ERR_IDENTITY_TEXT_INVALID: 'an exported identity text is malformed',
  OCKAM_ERR_PURPOSE_KEY_INVALID: 'a purpose key attestation has invalid fields',
  OCKAM_ERR_PURPOSE_KEY_WRONG_SUBJECT: 'a purpose key attestation names another identity',
  OCKAM_ERR_PURPOSE_KEY_STALE: 'a purpose key attestation binds a change that is not the identity latest',
  OCKAM_ERR_PURPOSE_KEY_WRONG_PURPOSE: 'a purpose key is attested for another purpose',
  OCKAM_ERR_PURPOSE_KEY_BAD_SIGNATURE: 'a purpose key attestation signature does not verify',
  OCKAM_ERR_PURPOSE_KEY_EXPIRED: 'a purpose key attestation has expired',
  OCKAM_ERR_PURPOSE_KEY_NOT_YET_VALID: 'a purpose key attestation is not valid yet',
  OCKAM_ERR_CREDENTIAL_INVALID: 'a credential has invalid fields or attributes out of bounds',
  OCKAM_ERR_CREDENTIAL_UNTRUSTED_ISSUER: 'a credential was issued by an identity that is not a trusted authority',
  OCKAM_ERR_CREDENTIAL_BAD_SIGNATURE: 'a credential signature does not verify with the issuer credential key',
  OCKAM_ERR_CREDENTIAL_EXPIRED: 'a credential has expired',
  OCKAM_ERR_CREDENTIAL_NOT_YET_VALID: 'a credential is not valid yet',
  OCKAM_ERR_CREDENTIAL_WRONG_SUBJECT: 'a credential names another subject identity',
  OCKAM_ERR_CREDENTIAL_SUBJECT_STALE: 'a credential binds a subject change that is not the subject latest',
  OCKAM_ERR_CREDENTIAL_TEXT_INVALID: 'a credential text is malformed',
  // Policies
  OCKAM_ERR_POLICY_PARSE: 'a policy text is malformed',
  OCKAM_ERR_POLICY_TOO_LARGE: 'a policy is longer or nests deeper than the limit',
  OCKAM_ERR_POLICY_INVALID: 'a value is not a well-formed policy tree',
  // State folder, state database and vault
  OCKAM_ERR_STATE_DIR_INVALID: 'the state folder path is not a directory or cannot be created',
  OCKAM_ERR_STATE_DIR_SYMLINK: 'the state folder (or its database file) is a symbolic link',
  OCKAM_ERR_STATE_DIR_OWNER: 'the state folder (or its database file) belongs to another user',
  OCKAM_ERR_STATE_DIR_PERMISSIONS: 'the state folder is accessible to group or others',
  OCKAM_ERR_STATE_DB_OPEN_FAILED: 'the state database could not be opened',
  OCKAM_ERR_STATE_SCHEMA_TOO_NEW: 'the state database was written by a newer ockam-runtime',
  OCKAM_ERR_STATE_MIGRATION_FAILED: 'a state database migration failed and was rolled back',
  OCKAM_ERR_VAULT_PASSPHRASE_REQUIRED: 'the vault is passphrase-protected and no passphrase was given',
  OCKAM_ERR_VAULT_PASSPHRASE_WRONG: 'the vault passphrase is wrong',
  OCKAM_ERR_VAULT_PASSPHRASE_INVALID: 'the vault passphrase is empty, too long or unreadable',
  OCKAM_ERR_VAULT_NOT_PROTECTED: 'a passphrase was given but the vault is not passphrase-protected',
  OCKAM_ERR_VAULT_KEY_NOT_FOUND: 'no vault key has that handle',
  OCKAM_ERR_VAULT_KEY_TYPE: 'the vault key has the wrong type for that operation',
  OCKAM_ERR_VAULT_CORRUPT: 'vault data in the state database is malformed or was tampered with',
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
  // Named identities, stored purpose keys and credentials, stored policies, durations (trust CLI)
  OCKAM_ERR_IDENTITY_NAME_INVALID: 'an identity name is empty, too long or has characters outside the allowed set',
  OCKAM_ERR_IDENTITY_NAME_TAKEN: 'an identity with that name already exists in this state folder',
  OCKAM_ERR_IDENTITY_NOT_FOUND: 'no identity with that name or identifier in this state folder',
  OCKAM_ERR_IDENTITY_NO_DEFAULT: 'this state folder has no default identity yet',
  OCKAM_ERR_IDENTITY_CONCURRENT_CHANGE: 'the identity was changed by another process during the operation',
  OCKAM_ERR_STATE_RECORD_CORRUPT:
    'a stored identity, attestation, credential or policy does not verify or parse (database modified outside ockam-runtime)',
  OCKAM_ERR_IDENTITY_HISTORY_UNAVAILABLE:
    'an identifier was given whose change history this state folder does not hold',
  OCKAM_ERR_POLICY_TARGET_INVALID: 'a policy resource name or resource type is malformed or unknown',
  OCKAM_ERR_POLICY_NOT_FOUND: 'no policy is stored for that resource or resource type',
  OCKAM_ERR_DURATION_INVALID: 'a duration is not a whole number followed by s, m, h or d, or is out of range',
  OCKAM_ERR_CLI_INPUT_UNREADABLE: 'a file (or standard input) named on the command line cannot be read',
  // Nodes, control API and persistent resources
  OCKAM_ERR_NODE_NOT_FOUND: 'no node has that name in this state folder',
  OCKAM_ERR_NODE_ALREADY_EXISTS: 'a node with that name already exists in this state folder',
  OCKAM_ERR_NODE_NOT_RUNNING: 'the node is not running',
  OCKAM_ERR_NODE_ALREADY_RUNNING: 'the node is already running',
  OCKAM_ERR_NODE_START_FAILED: 'a node process exited or timed out before it was ready',
  OCKAM_ERR_NODE_STOP_FAILED: 'a node did not stop in time and could not be confirmed to be ours',
  OCKAM_ERR_CONTROL_BAD_REQUEST: 'a control API request is malformed',
  OCKAM_ERR_CONTROL_TOO_LARGE: 'a control API request or response is larger than the limit',
  OCKAM_ERR_CONTROL_BAD_RESPONSE: 'a control API response is malformed',
  OCKAM_ERR_CONTROL_UNKNOWN_METHOD: 'the node does not know that control API method',
  OCKAM_ERR_CONTROL_VERSION_MISMATCH: 'the node runs another ockam-runtime version than this command',
  OCKAM_ERR_CONTROL_ACCESS_DENIED: 'the control socket refused this user (owner-only)',
  OCKAM_ERR_RESOURCE_UNKNOWN_KIND: 'no resource kind has that name',
  OCKAM_ERR_RESOURCE_INVALID: 'a resource specification is malformed or too large',
  OCKAM_ERR_RESOURCE_NOT_FOUND: 'the node has no resource of that kind and name',
  OCKAM_ERR_RESOURCE_ALREADY_EXISTS: 'the node already has a resource of that kind and name',
  // Secure channels, and the vault's Noise handshake operations they use
  OCKAM_ERR_VAULT_TOO_MANY_HANDSHAKES: 'the vault holds its maximum number of handshakes in progress',
  OCKAM_ERR_VAULT_HANDSHAKE_NOT_FOUND: 'no vault handshake in progress has that id (ended, failed or expired)',
  OCKAM_ERR_SECURE_CHANNEL_HANDSHAKE_TIMEOUT: 'a secure-channel handshake did not complete in time',
  OCKAM_ERR_SECURE_CHANNEL_PAYLOAD_MALFORMED: 'a secure-channel handshake payload or transport plaintext is malformed',
  OCKAM_ERR_SECURE_CHANNEL_PEER_INVALID: 'the peer presented an identity or key attestation that does not verify',
  OCKAM_ERR_SECURE_CHANNEL_KEY_NOT_ATTESTED: 'the peer Noise static key is not the key its identity attested',
  OCKAM_ERR_SECURE_CHANNEL_PEER_REFUSED: 'the peer does not satisfy this side trust policy',
  OCKAM_ERR_SECURE_CHANNEL_REFUSED_BY_PEER: 'the peer refused this side (its trust policy) and closed the channel',
  OCKAM_ERR_SECURE_CHANNEL_REFRESH_REFUSED:
    'refreshed credentials do not name this peer or do not come from a trusted authority',
  OCKAM_ERR_SECURE_CHANNEL_MESSAGE_TOO_LARGE: 'a message is larger than a secure channel carries',
  OCKAM_ERR_SECURE_CHANNEL_CLOSED: 'the secure channel is closed',
  // Authority: project, members, enrollment tickets, relay names, revocations
  OCKAM_ERR_AUTHORITY_NO_PROJECT: 'this state folder hosts no project',
  OCKAM_ERR_AUTHORITY_PROJECT_EXISTS: 'this state folder already hosts a project (one per state folder)',
  OCKAM_ERR_AUTHORITY_PROJECT_NAME_INVALID: 'a project name is not 1 to 63 characters of a-z, 0-9 and -',
  OCKAM_ERR_AUTHORITY_ADDRESS_INVALID: 'an advertised project address is not HOST:PORT',
  OCKAM_ERR_AUTHORITY_SETTINGS_INVALID: 'project settings are malformed or out of range',
  OCKAM_ERR_AUTHORITY_WRONG_PROJECT: 'a request or ticket names another project or authority',
  OCKAM_ERR_AUTHORITY_ACCESS_DENIED:
    'the requester may not do that (not a member, not an admin or enroller, or no authenticated channel)',
  OCKAM_ERR_AUTHORITY_ENROLLER_LIMIT:
    'enrollers cannot grant reserved attributes or relay *, nor create, change or delete admins or enrollers',
  OCKAM_ERR_AUTHORITY_ATTRIBUTES_INVALID: 'attributes are not text values within the credential limits',
  OCKAM_ERR_AUTHORITY_RESERVED_ATTRIBUTE:
    'an attribute name is reserved (ockam- prefix) or computed (identifier, has_credential)',
  OCKAM_ERR_AUTHORITY_TICKET_INVALID: 'ticket options are out of range (usage count, lifetime)',
  OCKAM_ERR_AUTHORITY_TICKET_TEXT_INVALID: 'an enrollment ticket text is malformed',
  OCKAM_ERR_AUTHORITY_TICKET_UNKNOWN: 'no ticket of this project has that one-time code',
  OCKAM_ERR_AUTHORITY_TICKET_USED: 'the ticket has been used as many times as it allows',
  OCKAM_ERR_AUTHORITY_TICKET_EXPIRED: 'the ticket has expired',
  OCKAM_ERR_AUTHORITY_TICKET_REVOKED: 'the ticket was revoked',
  OCKAM_ERR_AUTHORITY_TICKET_NOT_FOUND: 'no ticket has that id',
  OCKAM_ERR_AUTHORITY_ALREADY_MEMBER: 'the identity is already a member of the project',
  OCKAM_ERR_AUTHORITY_MEMBER_NOT_FOUND: 'the identity is not a member of the project',
  OCKAM_ERR_AUTHORITY_LAST_ADMIN: 'the last admin of a project cannot be deleted or demoted',
  OCKAM_ERR_AUTHORITY_IDENTITY_REVOKED: 'the identity was revoked from the project and cannot become a member again',
  OCKAM_ERR_AUTHORITY_BUSY: 'the authority state kept changing under the operation; nothing was changed',
  OCKAM_ERR_AUTHORITY_MESSAGE_INVALID: 'an authority request or response is malformed',
  OCKAM_ERR_AUTHORITY_TOO_MANY_SUBSCRIBERS: 'the revocation service is at its subscriber limit',
  OCKAM_ERR_RELAY_NAME_INVALID: 'a relay name is not 1 to 63 characters of a-z, 0-9 and -',
  OCKAM_ERR_RELAY_NOT_ALLOWED:
    'the identity may not register that relay name (attribute relay is neither the name nor *)',
  OCKAM_ERR_RELAY_NAME_TAKEN: 'the relay name is owned by another identity',
  OCKAM_ERR_RELAY_NOT_FOUND: 'no relay name is registered with that name',
  OCKAM_ERR_REVOCATION_INVALID: 'a revocation entry is malformed or of an unknown version',
  OCKAM_ERR_REVOCATION_WRONG_AUTHORITY: 'a revocation entry was issued by another authority than the one trusted',
  OCKAM_ERR_REVOCATION_UNKNOWN_SIGNER:
    'a revocation entry names a key change the trusted authority history does not hold',
  OCKAM_ERR_REVOCATION_BAD_SIGNATURE: 'a revocation entry signature does not verify',
  OCKAM_ERR_REVOCATION_SEQ_GAP: 'a revocation entry is not the next in sequence (entries were missed)',
  OCKAM_ERR_REVOCATION_CONFLICT: 'two different revocation entries claim one sequence number',

  // Relay service and relay sessions
  OCKAM_ERR_RELAY_MESSAGE_INVALID: 'a relay request or response is malformed',
  OCKAM_ERR_RELAY_RATE_LIMITED: 'the identity made too many relay registrations in the current window',
  OCKAM_ERR_RELAY_CAPACITY: 'the relay service or the member is at its registration limit',
  OCKAM_ERR_RELAY_NOT_REGISTERED: 'no live registration of that name belongs to this channel',
  OCKAM_ERR_RELAY_DESTINATION_REFUSED:
    'a message through a relay registration may only reach the secure-channel listener or channels opened through it',
  OCKAM_ERR_RELAY_LOST: 'the relay path stopped answering pings or its channel closed',
  // Portals: the portal protocol, tcp-outlet and tcp-inlet
  OCKAM_ERR_PORTAL_MALFORMED: 'a portal message is truncated, of an unknown type or has a field out of range',
  OCKAM_ERR_PORTAL_VERSION: 'the peer speaks another portal protocol version',
  OCKAM_ERR_PORTAL_OUT_OF_ORDER:
    'a portal message arrived with an unexpected sequence number: one was lost or replayed',
  OCKAM_ERR_PORTAL_CREDIT_EXCEEDED: 'a portal peer sent more data than the credit it was granted',
  OCKAM_ERR_PORTAL_PROTOCOL:
    'a portal message arrived that the portal state does not allow (data after end, a second open)',
  OCKAM_ERR_PORTAL_OPEN_FAILED: 'a portal could not be opened: the route is down or no answer came in time',
  OCKAM_ERR_PORTAL_DENIED: 'the portal peer is not allowed by the policy (at open or on a re-check)',
  OCKAM_ERR_PORTAL_TOO_MANY: 'the cap on open portals (per peer or in total) is reached',
  OCKAM_ERR_PORTAL_TARGET_UNREACHABLE: 'the outlet could not connect to its target',
  OCKAM_ERR_PORTAL_PATH_LOST: 'the route a portal ran over is gone (connection or channel closed)',
  OCKAM_ERR_PORTAL_RESET: 'the portal peer reset the stream',
  // Project CLI: project host, enrollment of another state folder
  OCKAM_ERR_PROJECT_PORT_IN_USE: 'the project listen address is already in use',
  OCKAM_ERR_PROJECT_IDENTITY_MISMATCH: 'the ticket names another project identity than the one pinned',
  OCKAM_ERR_PROJECT_ALREADY_ENROLLED: 'this state folder is already a member of a project (one per state folder)',
  OCKAM_ERR_PROJECT_NONE: 'this state folder neither hosts nor is enrolled in a project',
  OCKAM_ERR_PROJECT_RECORD_INVALID: 'the stored record of the enrolled project is unreadable',
  OCKAM_ERR_PROJECT_MISMATCH: 'a route or resource names another project than the one of this state folder',
  // Inlet route probes: a dead far end behind a live first hop
  OCKAM_ERR_PORTAL_ROUTE_UNANSWERED:
    'a probe along an inlet route went unanswered (the outlet node or the relay is gone); the route is rebuilt',
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
