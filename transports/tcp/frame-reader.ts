/**
 * Splits a TCP byte stream into frame bodies: first the peer's version byte, then frames of a
 * 4-byte big-endian length and a body. A length above the maximum is refused before anything
 * is allocated; bytes of an unfinished frame are held as received (never preallocated to the
 * claimed length) and reported through `onBuffered` so the node-wide budget sees them.
 */
import { OckamError } from '../../runtime/errors.js'
import { FRAME_LENGTH_BYTES, WIRE_VERSION } from './constants.js'

export interface FrameReaderOptions {
  readonly maxFrameBytes: number
  /** Called with the change in bytes held for unfinished frames (positive or negative). */
  readonly onBuffered?: (delta: number) => void
}

export class FrameReader {
  readonly #maxFrameBytes: number
  readonly #onBuffered: (delta: number) => void
  #versionSeen = false
  /** Bytes held for the frame in progress (header bytes included). */
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** Body length of the frame in progress, once its header is complete; -1 before. */
  #bodyLength = -1

  constructor(options: FrameReaderOptions) {
    this.#maxFrameBytes = options.maxFrameBytes
    this.#onBuffered = options.onBuffered ?? (() => {})
  }

  /** True while part of a frame has arrived and the rest has not. */
  get inFrame(): boolean {
    return this.#pendingBytes > 0
  }

  get bufferedBytes(): number {
    return this.#pendingBytes
  }

  /** Feeds a chunk; returns the complete frame bodies in it. Throws OckamError on a violation. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = []
    let offset = 0
    if (!this.#versionSeen) {
      if (chunk.length === 0) return frames
      const version = chunk[0] as number
      if (version !== WIRE_VERSION) {
        throw new OckamError(
          'OCKAM_ERR_TCP_VERSION_MISMATCH',
          `peer speaks wire version ${version}, this node speaks ${WIRE_VERSION}`,
          { hint: 'run the same ockam-runtime version on both ends', data: { version } },
        )
      }
      this.#versionSeen = true
      offset = 1
    }
    while (offset < chunk.length) {
      if (this.#pendingBytes === 0) {
        // Fast path: a whole frame inside this chunk is returned as a view, without copying.
        if (chunk.length - offset >= FRAME_LENGTH_BYTES) {
          const length = this.#checkLength(chunk.readUInt32BE(offset))
          const end = offset + FRAME_LENGTH_BYTES + length
          if (end <= chunk.length) {
            frames.push(chunk.subarray(offset + FRAME_LENGTH_BYTES, end))
            offset = end
            continue
          }
          this.#bodyLength = length
        }
        this.#hold(chunk.subarray(offset))
        return frames
      }
      // Continue the frame in progress.
      if (this.#bodyLength < 0) {
        const need = FRAME_LENGTH_BYTES - this.#pendingBytes
        const take = Math.min(need, chunk.length - offset)
        this.#hold(chunk.subarray(offset, offset + take))
        offset += take
        if (this.#pendingBytes < FRAME_LENGTH_BYTES) return frames
        this.#bodyLength = this.#checkLength(Buffer.concat(this.#pending).readUInt32BE(0))
        continue
      }
      const total = FRAME_LENGTH_BYTES + this.#bodyLength
      const take = Math.min(total - this.#pendingBytes, chunk.length - offset)
      this.#hold(chunk.subarray(offset, offset + take))
      offset += take
      if (this.#pendingBytes === total) {
        const frame = Buffer.concat(this.#pending, total).subarray(FRAME_LENGTH_BYTES)
        this.#onBuffered(-this.#pendingBytes)
        this.#pending = []
        this.#pendingBytes = 0
        this.#bodyLength = -1
        frames.push(frame)
      }
    }
    return frames
  }

  /** Drops what is held (on close) and gives the bytes back to the budget. */
  reset(): void {
    if (this.#pendingBytes > 0) this.#onBuffered(-this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    this.#bodyLength = -1
  }

  #hold(bytes: Buffer): void {
    if (bytes.length === 0) return
    // A small tail of a large socket chunk would keep the whole chunk alive and make the
    // budget under-count: copy it so what we hold is what we count.
    this.#pending.push(bytes.length * 2 < bytes.buffer.byteLength ? Buffer.from(bytes) : bytes)
    this.#pendingBytes += bytes.length
    this.#onBuffered(bytes.length)
  }

  #checkLength(length: number): number {
    if (length > this.#maxFrameBytes) {
      throw new OckamError(
        'OCKAM_ERR_TCP_FRAME_TOO_LARGE',
        `peer announced a ${length}-byte frame; the maximum is ${this.#maxFrameBytes}`,
        { data: { length, max: this.#maxFrameBytes } },
      )
    }
    if (length < 2) {
      throw new OckamError('OCKAM_ERR_TCP_FRAME_MALFORMED', `a frame body has at least 2 bytes, got ${length}`)
    }
    return length
  }
}
