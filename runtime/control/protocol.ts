/**
 * The control API wire format: one JSON object per line, UTF-8, over a Unix socket.
 *
 *   request:  {"v":1,"id":7,"version":"0.1.0","method":"status","params":{}}
 *   response: {"id":7,"ok":true,"result":{…}}  or  {"id":7,"ok":false,"error":{"name":"OckamError","code":…}}
 *
 * `v` is CONTROL_PROTOCOL_VERSION; `version` is the CLI's package version (the node refuses
 * every method but `hello` and `shutdown` from another version). The decoders bound their input
 * before parsing and throw only typed OckamErrors.
 */
import { OckamError, type SerializedOckamError } from '../errors.js'
import {
  CONTROL_PROTOCOL_VERSION,
  DEFAULT_CONTROL_MAX_REQUEST_BYTES,
  DEFAULT_CONTROL_MAX_RESPONSE_BYTES,
  MAX_CONTROL_TOKEN_CHARS,
} from './constants.js'

export interface ControlRequest {
  readonly v: number
  readonly id: number
  readonly version: string
  readonly method: string
  readonly params: Record<string, unknown>
}

export type ControlResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedOckamError }

const METHOD = /^[a-z][a-z0-9.-]*$/
const REQUEST_KEYS = new Set(['v', 'id', 'version', 'method', 'params'])
const utf8 = new TextDecoder('utf-8', { fatal: true })

export function encodeRequest(request: ControlRequest): Buffer {
  return Buffer.from(`${JSON.stringify(request)}\n`, 'utf8')
}

export function encodeResponse(response: ControlResponse): Buffer {
  return Buffer.from(`${JSON.stringify(response)}\n`, 'utf8')
}

function bad(message: string): OckamError {
  return new OckamError('OCKAM_ERR_CONTROL_BAD_REQUEST', message, {
    hint: 'the control API is for the ockam-runtime CLI of the same version',
  })
}

function parseJsonLine(line: Uint8Array, max: number, what: string, invalid: (m: string) => OckamError): unknown {
  if (line.length > max) {
    throw new OckamError('OCKAM_ERR_CONTROL_TOO_LARGE', `a control ${what} of ${line.length} bytes exceeds ${max}`, {
      data: { bytes: line.length, max },
    })
  }
  let text: string
  try {
    text = utf8.decode(line)
  } catch {
    throw invalid(`a control ${what} is not UTF-8`)
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw invalid(`a control ${what} is not JSON`)
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Decodes one request line (without its newline). Throws OCKAM_ERR_CONTROL_{TOO_LARGE,BAD_REQUEST}. */
export function decodeRequest(line: Uint8Array, maxBytes = DEFAULT_CONTROL_MAX_REQUEST_BYTES): ControlRequest {
  const value = parseJsonLine(line, maxBytes, 'request', bad)
  if (!isPlainObject(value)) throw bad('a control request must be a JSON object')
  for (const key of Object.keys(value))
    if (!REQUEST_KEYS.has(key)) throw bad(`unknown request field "${key.slice(0, 32)}"`)
  const { v, id, version, method, params } = value
  if (v !== CONTROL_PROTOCOL_VERSION) {
    throw new OckamError(
      'OCKAM_ERR_CONTROL_VERSION_MISMATCH',
      `the request speaks control protocol ${JSON.stringify(v)?.slice(0, 16)}, this node speaks ${CONTROL_PROTOCOL_VERSION}`,
      {
        hint: 'restart the node with this ockam-runtime: ockam-runtime node stop NAME && ockam-runtime node start NAME',
      },
    )
  }
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw bad('"id" must be a non-negative integer')
  if (typeof version !== 'string' || version.length === 0 || version.length > MAX_CONTROL_TOKEN_CHARS) {
    throw bad(`"version" must be a string of 1 to ${MAX_CONTROL_TOKEN_CHARS} characters`)
  }
  if (typeof method !== 'string' || method.length > MAX_CONTROL_TOKEN_CHARS || !METHOD.test(method)) {
    throw bad(`"method" must be a lowercase name of at most ${MAX_CONTROL_TOKEN_CHARS} characters`)
  }
  if (!isPlainObject(params)) throw bad('"params" must be a JSON object')
  return { v, id, version, method, params }
}

function badResponse(message: string): OckamError {
  return new OckamError('OCKAM_ERR_CONTROL_BAD_RESPONSE', message, {
    hint: 'the node may run another ockam-runtime version: restart it',
  })
}

/** Decodes one response line. Throws OCKAM_ERR_CONTROL_{TOO_LARGE,BAD_RESPONSE}. */
export function decodeResponse(line: Uint8Array, maxBytes = DEFAULT_CONTROL_MAX_RESPONSE_BYTES): ControlResponse {
  const value = parseJsonLine(line, maxBytes, 'response', badResponse)
  if (!isPlainObject(value)) throw badResponse('a control response must be a JSON object')
  const { id, ok } = value
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw badResponse('"id" must be an integer')
  if (ok === true) return { id, ok, result: value.result }
  if (ok === false && OckamError.isSerialized(value.error)) return { id, ok, error: value.error }
  throw badResponse('a control response must carry "result" or a serialized error')
}

/**
 * Splits a byte stream into lines without holding more than `maxBytes` of an unfinished one:
 * a peer that never sends a newline is cut off at the limit, not buffered forever.
 */
export class LineSplitter {
  readonly #maxBytes: number
  #chunks: Buffer[] = []
  #held = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** Returns the complete lines in `chunk`; throws OCKAM_ERR_CONTROL_TOO_LARGE past the limit. */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = []
    let start = 0
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, newline)
      this.#check(part.length)
      this.#chunks.push(part)
      lines.push(Buffer.concat(this.#chunks))
      this.#chunks = []
      this.#held = 0
      start = newline + 1
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start)
      this.#check(rest.length)
      this.#chunks.push(rest)
      this.#held += rest.length
    }
    return lines
  }

  #check(more: number): void {
    if (this.#held + more > this.#maxBytes) {
      throw new OckamError('OCKAM_ERR_CONTROL_TOO_LARGE', `a control message line exceeds ${this.#maxBytes} bytes`, {
        data: { max: this.#maxBytes },
      })
    }
  }
}
