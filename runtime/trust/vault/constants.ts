/** Passphrase from the environment (takes precedence over the file variable). */
export const VAULT_PASSPHRASE_ENV = 'OCKAM_RUNTIME_VAULT_PASSPHRASE'

/** Path of a file holding the passphrase (one trailing newline is ignored). */
export const VAULT_PASSPHRASE_FILE_ENV = 'OCKAM_RUNTIME_VAULT_PASSPHRASE_FILE'

/**
 * scrypt cost N = 2^15 for new vaults: ~90 ms and 32 MiB per derivation on this 2-core machine,
 * paid once per vault open. OWASP's floor for password storage is 2^17 (~370 ms, 128 MiB); the
 * vault unlocks on every CLI command that needs a key, so we take the cheaper setting the brief
 * named. The parameters are stored per database, so raising this later does not lock anyone out.
 */
export const DEFAULT_SCRYPT_LOG2_N = 15
/** scrypt block size r (memory = 128 · N · r bytes). */
export const DEFAULT_SCRYPT_R = 8
/** scrypt parallelism p. */
export const DEFAULT_SCRYPT_P = 1

/** Upper bounds on KDF parameters read back from a database, so a tampered row cannot ask for 2^40 work. */
export const MAX_SCRYPT_LOG2_N = 20
export const MAX_SCRYPT_R = 16
export const MAX_SCRYPT_P = 4
/** Most memory a derivation may use (128 · N · r), in bytes; also the ceiling handed to node:crypto. */
export const MAX_SCRYPT_MEMORY_BYTES = 1024 * 1024 * 1024

/** Per-database random salt, in bytes. */
export const VAULT_SALT_BYTES = 32

/** Random bytes in a key handle (`vk_` + hex): 128 bits, so handles never collide. */
export const VAULT_HANDLE_RANDOM_BYTES = 16

/** Longest accepted passphrase, in UTF-8 bytes; also the most read from the passphrase file. */
export const MAX_VAULT_PASSPHRASE_BYTES = 1024

/** Largest message `sign()` accepts, in bytes: identity changes and attestations are small. */
export const DEFAULT_VAULT_MAX_SIGN_BYTES = 1024 * 1024

/** Decrypted keys kept in memory (least recently used evicted and zeroed beyond this). */
export const DEFAULT_VAULT_KEY_CACHE_SIZE = 1024

/**
 * Noise handshakes in progress inside one vault at once (unit: handshakes). Each holds a few
 * hundred bytes; the bound is far above the listeners' half-open limits combined, so it only
 * stops a caller that starts handshakes and never ends them.
 */
export const DEFAULT_VAULT_MAX_HANDSHAKES = 1024

/**
 * Longest life of a handshake in the vault (unit: ms), whatever its caller does: several times
 * any channel's handshake timeout, so only abandoned handshakes are swept.
 */
export const DEFAULT_VAULT_HANDSHAKE_TTL_MS = 60_000

/** Largest Noise prologue the vault accepts (unit: bytes); ours is about 50. */
export const VAULT_MAX_PROLOGUE_BYTES = 1024
