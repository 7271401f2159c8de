/** The project authority's services on the wire (DESIGN §6): enrollment, credentials, members, revocations. */
export * from './client.js'
export * from './constants.js'
export {
  type AuthorityHandler,
  channelPeer,
  createCredentialsHandler,
  createEnrollmentHandler,
  createMembersHandler,
  type HandlerOptions,
} from './handlers.js'
export * from './protocol.js'
export {
  type RevocationSubscriber,
  type RevocationSubscriberOptions,
  revocationSubscriber,
} from './revocation-subscriber.js'
export { type RevocationsWorker, type RevocationsWorkerOptions, revocationsWorker } from './revocations-worker.js'
export {
  type AuthorityWorkers,
  authorityWorker,
  channelIngressOnly,
  type StartAuthorityWorkersOptions,
  startAuthorityWorkers,
} from './workers.js'
