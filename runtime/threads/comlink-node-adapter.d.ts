// comlink ships typings beside its ESM build as `.d.ts` files, which NodeNext resolution does not
// pair with the `.mjs` files we import; these declarations point the ESM paths at those typings.
// We load comlink's ESM build (not its UMD `main`) so one module instance, with one transfer
// handler registry, serves both sides of every thread service.
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink'
}

declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'

  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void
    on(type: string, listener: (value: unknown) => void): void
    off(type: string, listener: (value: unknown) => void): void
    start?: () => void
  }

  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint
}
