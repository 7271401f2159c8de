/**
 * Keeps a foreground process alive until SIGINT or SIGTERM, then runs its cleanup once. A
 * second signal during cleanup exits at once (the user means it).
 */
export function runUntilSignal(cleanup: () => Promise<void>): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130)
      stopping = true
      cleanup().finally(() => {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        resolve(signal)
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
