/**
 * The secure-channel listener (default address `api` on every node). It accepts message 1 from
 * any ingress — it is what relays deliver to (DESIGN §12) — and, within its half-open limits,
 * starts a responder channel whose decryptor takes over the handshake. Message 1 carries no
 * identity and costs the listener only a length check before the limits are applied.
 */
import { allowAnyIngress } from '../../runtime/access-control.js'
import { type Address, local } from '../../runtime/address.js'
import type { Ingress } from '../../runtime/message.js'
import { RateLimitedLog } from '../../runtime/rate-limited-log.js'
import type { NoiseProtocolName, NoiseSuite } from '../../runtime/trust/noise/suite.js'
import type { Worker } from '../../runtime/worker.js'
import {
  DEFAULT_MAX_HALF_OPEN_PER_CONNECTION,
  DEFAULT_MAX_HALF_OPEN_PER_LISTENER,
  DEFAULT_SECURE_CHANNEL_LISTENER_ADDRESS,
} from './constants.js'
import { decryptorIncoming, decryptorWorker } from './decryptor.js'
import { encryptorIncoming, encryptorWorker } from './encryptor.js'
import { decodeMessage1 } from './handshake-payload.js'
import { newChannelId } from './initiator.js'
import { adjustGauge, METRICS } from './metrics.js'
import { type CommonChannelOptions, positiveInteger, resolveCommon, resolveSuites, resolveTimeout } from './options.js'
import { SecureChannelSession } from './session.js'
import type { SecureChannel, SecureChannelHost } from './types.js'

export interface SecureChannelListenerOptions extends CommonChannelOptions {
  /** Local address; default `api`. */
  readonly address?: string
  /** Suites accepted; default both (AESGCM, ChaChaPoly). */
  readonly suites?: readonly (NoiseSuite | NoiseProtocolName)[]
  /** Message 1 to message 3 verified (ms); default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  readonly handshakeTimeoutMs?: number
  /** Default DEFAULT_MAX_HALF_OPEN_PER_LISTENER. */
  readonly maxHalfOpen?: number
  /** Per incoming connection, relay registration or enclosing channel; default DEFAULT_MAX_HALF_OPEN_PER_CONNECTION. */
  readonly maxHalfOpenPerConnection?: number
  /** Called with each responder channel once it is open. */
  readonly onChannel?: (channel: SecureChannel) => void
}

export interface SecureChannelListener {
  readonly address: Address
  /** Responder handshakes half-open now. */
  readonly halfOpen: number
  /** Stops accepting message 1; channels already open stay open. */
  stop(): Promise<void>
}

/** The path a message 1 came by: the unit of the per-connection half-open limit. */
function pathOf(ingress: Ingress): string {
  switch (ingress.kind) {
    case 'local':
      return 'local'
    case 'tcp':
      return `tcp:${ingress.connection}`
    case 'channel':
      return `channel:${ingress.channel}`
    case 'relay':
      return `relay:${ingress.registration}`
  }
}

export async function startSecureChannelListener(
  host: SecureChannelHost,
  options: SecureChannelListenerOptions,
): Promise<SecureChannelListener> {
  const common = resolveCommon(options)
  const suites = resolveSuites(options.suites)
  const handshakeTimeoutMs = resolveTimeout(options.handshakeTimeoutMs)
  const maxHalfOpen = positiveInteger(options.maxHalfOpen, DEFAULT_MAX_HALF_OPEN_PER_LISTENER, 'maxHalfOpen')
  const maxPerPath = positiveInteger(
    options.maxHalfOpenPerConnection,
    DEFAULT_MAX_HALF_OPEN_PER_CONNECTION,
    'maxHalfOpenPerConnection',
  )
  const { router } = host
  const counters = router.counters
  const log = new RateLimitedLog(router.log)
  const address = local(options.address ?? DEFAULT_SECURE_CHANNEL_LISTENER_ADDRESS)
  let halfOpen = 0
  const perPath = new Map<string, number>()

  const take = (path: string): (() => void) => {
    halfOpen += 1
    perPath.set(path, (perPath.get(path) ?? 0) + 1)
    adjustGauge(counters, METRICS.halfOpen, 1)
    let released = false
    return () => {
      if (released) return
      released = true
      halfOpen -= 1
      const left = (perPath.get(path) ?? 1) - 1
      if (left === 0) perPath.delete(path)
      else perPath.set(path, left)
      adjustGauge(counters, METRICS.halfOpen, -1)
    }
  }

  const worker: Worker = {
    async handleMessage(_ctx, message) {
      let suite: NoiseSuite
      try {
        suite = decodeMessage1(message.payload, suites).suite
      } catch (error) {
        counters.inc(METRICS.message1Malformed)
        log.warn(
          'message1',
          { err: error, listener: address.value },
          'secure-channel listener dropped a malformed message 1',
        )
        return
      }
      const path = pathOf(message.local.ingress)
      if (halfOpen >= maxHalfOpen || (perPath.get(path) ?? 0) >= maxPerPath) {
        counters.inc(METRICS.halfOpenRefused)
        log.warn(
          halfOpen >= maxHalfOpen ? 'half-open-listener' : 'half-open-path',
          { listener: address.value, halfOpen, limit: halfOpen >= maxHalfOpen ? maxHalfOpen : maxPerPath },
          'secure-channel listener is at a half-open handshake limit: message 1 dropped',
        )
        return
      }
      const release = take(path)
      const session = new SecureChannelSession(newChannelId(), {
        ...common,
        role: 'responder',
        router,
        pool: host.pool,
        suite,
        handshakeTimeoutMs,
        onHandshakeEnded: release,
        ...(options.onChannel === undefined ? {} : { onOpen: options.onChannel }),
      })
      try {
        await router.startWorker([session.decryptorAddress, session.passthroughAddress], decryptorWorker(session), {
          incoming: decryptorIncoming,
        })
        await router.startWorker([session.encryptorAddress], encryptorWorker(session), {
          incoming: encryptorIncoming(session.encryptorAddress.value),
        })
      } catch (error) {
        release()
        void router.stopWorker(session.decryptorAddress)
        throw error
      }
      session.begin()
      // The decryptor takes message 1 as its first message, so it handles 1 and 3 in order.
      await router.send({ ...message, onward: [session.decryptorAddress] })
    },
  }
  await router.startWorker([address], worker, { incoming: allowAnyIngress })
  return {
    address,
    get halfOpen() {
      return halfOpen
    },
    stop: () => router.stopWorker(address),
  }
}
