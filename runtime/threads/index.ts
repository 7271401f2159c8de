export * from './constants.js'
export { deserializeThrown, installOckamThrowHandler, serializeThrown } from './error-transfer.js'
export { exposeThreadService, type ThreadServiceFactory } from './expose-thread-service.js'
export {
  type StartThreadServiceOptions,
  startThreadService,
  type ThreadApi,
  type ThreadService,
} from './thread-service.js'
