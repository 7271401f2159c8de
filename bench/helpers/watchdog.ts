/** A bench must end: past `ms`, say so and exit non-zero rather than hang a CI job or a terminal. */
export function armWatchdog(name: string, ms: number): void {
  setTimeout(() => {
    console.error(`${name}: still running after ${Math.round(ms / 1000)} s; giving up`)
    process.exit(1)
  }, ms).unref()
}
