/**
 * A full garbage collection between measured segments, so one segment's garbage (for example
 * the timers and signals of thousands of requests) is not collected on the next one's clock.
 * Works without `--expose-gc` on the command line: the flag is set at run time and the `gc`
 * function taken from a fresh context, where V8 installs it.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | undefined

export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}
