/**
 * createSecureChannel: the initiator. It starts the channel's two workers, sends message 1 along
 * the route to the peer's listener, and resolves once the peer is verified, admitted by the trust
 * policy and has disclosed its credentials — or rejects with the typed reason, leaving nothing
 * behind (workers stopped, vault handshake aborted).
 */
import { randomBytes } from 'node:crypto'
import { abortError, OckamError, throwIfAborted } from '../../runtime/errors.js'
import { checkRoute, type Route } from '../../runtime/route.js'
import { decryptorIncoming, decryptorWorker } from './decryptor.js'
import { encryptorIncoming, encryptorWorker } from './encryptor.js'
import { resolveCommon, resolveSuite, resolveTimeout, type SecureChannelOptions } from './options.js'
import { SecureChannelSession } from './session.js'
import type { SecureChannel, SecureChannelHost } from './types.js'

export function newChannelId(): string {
  return randomBytes(8).toString('hex')
}

/**
 * Opens a channel to the listener at the end of `route` (for example
 * `[1#127.0.0.1:4000, 0#api]`). Send through it with onward `[channel.address, ...]`.
 */
export async function createSecureChannel(
  host: SecureChannelHost,
  route: Route,
  options: SecureChannelOptions,
): Promise<SecureChannel> {
  throwIfAborted(options?.signal, 'creating a secure channel')
  const common = resolveCommon(options)
  const suite = resolveSuite(options.suite)
  const handshakeTimeoutMs = resolveTimeout(options.timeoutMs)
  checkRoute(route)
  if (route.length === 0)
    throw new OckamError('OCKAM_ERR_ROUTER_EMPTY_ROUTE', 'a secure channel needs a route to its listener')
  const { router } = host
  const session = new SecureChannelSession(newChannelId(), {
    ...common,
    role: 'initiator',
    router,
    pool: host.pool,
    suite,
    handshakeTimeoutMs,
  })
  await router.startWorker([session.decryptorAddress, session.passthroughAddress], decryptorWorker(session), {
    incoming: decryptorIncoming,
  })
  try {
    await router.startWorker([session.encryptorAddress], encryptorWorker(session), {
      incoming: encryptorIncoming(session.encryptorAddress.value),
    })
  } catch (error) {
    await router.stopWorker(session.decryptorAddress)
    throw error
  }
  session.begin()
  const signal = options.signal
  const onAbort = (): void => {
    void session.close('normal', { by: 'local', notify: true, error: abortError(signal!, 'creating a secure channel') })
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  void session.initiate(route)
  try {
    return await session.opened
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}
