/**
 * Node/V8 flags for a process that hosts nodes (a daemon, `ockam-runtime start`, a bench).
 *
 * `--initial-old-space-size=64`: with V8's defaults a node's old-generation limit tracks its small
 * live heap (~10 MB), so the 64 KiB buffers a portal turns over (socket reads, ciphertext,
 * plaintext) start a full mark-compact every 20–50 ms: 22–28% of a busy node's CPU went to the
 * garbage collector. Letting the old generation reach 64 MB before it counts as full cut that
 * to a few percent. bench/heap-flags.bench.ts (portal in a secure channel, two node processes,
 * interleaved): about 1.7× the MB/s at 0.5× the CPU-s/GB; 64, 128 and 256 MB measured alike,
 * so the smallest is taken (it bounds how much garbage a node may hold before collecting).
 *
 * V8 reads this flag only when the heap is set up, and Node refuses it in NODE_OPTIONS, so it
 * must be on the command line: the daemon spawner passes it, the CLI's shebang and the npm
 * scripts carry it literally (test/unit/runtime/host-flags.test.ts keeps them in step), and an
 * embedding application passes it to `node` itself (docs/performance.md).
 */
export const NODE_HOST_FLAGS: readonly string[] = ['--initial-old-space-size=64']

/** Whether this process was started with every host flag (a node logs a hint when not). */
export function hasHostFlags(execArgv: readonly string[] = process.execArgv): boolean {
  return NODE_HOST_FLAGS.every((flag) => execArgv.includes(flag))
}
