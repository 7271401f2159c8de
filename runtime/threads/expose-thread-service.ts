/**
 * The thread side of a thread service: call `exposeThreadService(factory)` at the top level of
 * the module given to `startThreadService`. The factory receives the `init` value and returns
 * the service object; its methods become callable from the main thread.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads'
import { expose } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { OckamError } from '../errors.js'
import { installOckamThrowHandler, serializeThrown } from './error-transfer.js'
import type { MainToThread, ThreadServiceWorkerData, ThreadToMain } from './protocol.js'

export type ThreadServiceFactory<T extends object> = (init: unknown) => T | Promise<T>

export function exposeThreadService<T extends object>(factory: ThreadServiceFactory<T>): void {
  if (isMainThread || parentPort === null) {
    throw new OckamError('OCKAM_ERR_INTERNAL', 'exposeThreadService() must run inside a worker thread', {
      hint: 'start the module with startThreadService()',
    })
  }
  installOckamThrowHandler()
  const control = parentPort
  const { init, port } = workerData as ThreadServiceWorkerData
  const post = (message: ThreadToMain): void => control.postMessage(message)

  void (async () => {
    let service: T
    try {
      service = await factory(init)
    } catch (error) {
      post({ kind: 'init-failed', error: serializeThrown(error) })
      control.close()
      return
    }
    control.on('message', (message: MainToThread) => {
      if (message.kind !== 'stop') return
      void closeThenExit(service, port, control)
    })
    expose(service, nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]))
    post({ kind: 'ready' })
  })()
}

async function closeThenExit(service: object, port: MessagePort, control: MessagePort): Promise<void> {
  const close = (service as { close?: unknown }).close
  try {
    if (typeof close === 'function') await close.call(service)
  } finally {
    // Closing both ports empties the event loop, so the thread ends with exit code 0.
    port.close()
    control.close()
  }
}
