/**
 * comlink's default "throw" handler keeps only an error's message, name and stack, so an
 * OckamError would arrive without its code. This replaces it with one that carries OckamErrors
 * as their JSON form and rebuilds them on the other side. Any other Error from a thread is a bug
 * in that thread: it arrives as OCKAM_ERR_INTERNAL naming the original error, never untyped.
 *
 * The registry is per module instance and shared by every comlink user of that instance, so the
 * handler is installed once, keeps comlink's own `canHandle` (its throw marker is private), and
 * stays compatible for non-error throws.
 */
import { type TransferHandler, transferHandlers } from 'comlink/dist/esm/comlink.mjs'
import { OckamError, type SerializedOckamError } from '../errors.js'

type WireThrown =
  | { readonly kind: 'ockam'; readonly error: SerializedOckamError }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly stack: string | undefined }
  | { readonly kind: 'value'; readonly value: unknown }

const INSTALLED = Symbol.for('ockam-runtime.comlink-throw-handler')

/** The plain-object form of anything thrown, for comlink and for our own control messages. */
export function serializeThrown(thrown: unknown): WireThrown {
  if (thrown instanceof OckamError) return { kind: 'ockam', error: thrown.toJSON() }
  if (thrown instanceof Error) return { kind: 'error', name: thrown.name, message: thrown.message, stack: thrown.stack }
  return { kind: 'value', value: thrown }
}

/** Rebuilds what `serializeThrown` produced; anything unrecognised becomes OCKAM_ERR_INTERNAL. */
export function deserializeThrown(wire: unknown, where: string): OckamError {
  const value = (typeof wire === 'object' && wire !== null ? wire : {}) as Partial<Record<string, unknown>>
  if (value.kind === 'ockam' && OckamError.isSerialized(value.error) && typeof value.error.message === 'string') {
    return OckamError.fromJSON(value.error)
  }
  if (value.kind === 'error') {
    const name = text(value.name, 'Error')
    return new OckamError('OCKAM_ERR_INTERNAL', `${where} threw ${name}: ${text(value.message, '')}`, {
      data: { name, stack: text(value.stack, '') },
    })
  }
  return new OckamError('OCKAM_ERR_INTERNAL', `${where} threw a non-Error value`, {
    data: { type: value.kind === 'value' ? typeof value.value : typeof wire },
  })
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback
}

/** Idempotent: installs the OckamError-preserving "throw" handler in comlink's registry. */
export function installOckamThrowHandler(): void {
  const current = transferHandlers.get('throw')
  if (current === undefined) throw new OckamError('OCKAM_ERR_INTERNAL', 'comlink has no "throw" transfer handler')
  if ((current as { [INSTALLED]?: true })[INSTALLED] === true) return
  const handler: TransferHandler<{ value: unknown }, WireThrown> & { [INSTALLED]: true } = {
    [INSTALLED]: true,
    canHandle: (value): value is { value: unknown } => current.canHandle(value),
    serialize: ({ value }) => [serializeThrown(value), []],
    deserialize(wire) {
      throw deserializeThrown(wire, 'a thread service')
    },
  }
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>)
}
