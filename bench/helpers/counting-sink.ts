/**
 * The bulk benches' target: counts the bytes of each connection until its FIN, then answers the
 * count (8 bytes, big-endian) and ends, so the client times the whole upload and the half-close.
 */
import { createServer, type Server } from 'node:net'

/** A server (not yet listening) that does the above for every connection. */
export function countingSinkServer(): Server {
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    let count = 0
    socket.on('data', (chunk: Buffer) => {
      count += chunk.length
    })
    socket.on('end', () => {
      const reply = Buffer.alloc(8)
      reply.writeBigUInt64BE(BigInt(count))
      socket.end(reply)
    })
    socket.on('error', () => socket.destroy())
  })
}
