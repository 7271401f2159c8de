/** How long a thread service may take to start (load its module and run its factory), in ms. */
export const DEFAULT_THREAD_START_TIMEOUT_MS = 30_000

/**
 * How long `stop()` waits for the thread to run its `close()` and exit by itself before it is
 * terminated, in ms. Closing a SQLite connection checkpoints the WAL, so allow some disk time.
 */
export const DEFAULT_THREAD_STOP_TIMEOUT_MS = 5_000
