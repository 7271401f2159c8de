/** Environment variable naming the state folder. */
export const STATE_DIR_ENV = 'OCKAM_RUNTIME_HOME'

/** Folder name under the user's home directory when OCKAM_RUNTIME_HOME is not set. */
export const DEFAULT_STATE_DIR_NAME = '.ockam-runtime'

/** The SQLite database inside the state folder. */
export const STATE_DB_FILE_NAME = 'state.sqlite3'

/** Mode of the state folder: owner only. Anything with group/other bits is refused. */
export const STATE_DIR_MODE = 0o700

/** Mode of the database file (SQLite gives its -wal and -shm files the same mode). */
export const STATE_DB_FILE_MODE = 0o600

/** umask in force while the state folder is created, so no intermediate mode is ever wider. */
export const STATE_DIR_UMASK = 0o077

/**
 * How long a connection waits for another connection's write lock before SQLITE_BUSY, in ms.
 * Writes are short (one row, one migration); 5 s covers a checkpoint on a slow disk.
 */
export const DEFAULT_STATE_BUSY_TIMEOUT_MS = 5_000
