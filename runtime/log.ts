/**
 * Structured logging: JSON lines on stderr (stdout carries data only, DESIGN §12). pino writes
 * synchronously to fd 2 so nothing is lost when a process exits right after logging.
 */
import { type DestinationStream, type Logger, pino, destination as pinoDestination } from 'pino'

export type { Logger }
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface LoggerOptions {
  /** Node or component name, on every line. */
  name: string
  level?: LogLevel
  /** Where lines go; default stderr. Tests pass a stream to read lines back. */
  destination?: NodeJS.WritableStream | { write(line: string): void }
}

export function defaultLogLevel(): LogLevel {
  const env = process.env.OCKAM_LOG_LEVEL
  const levels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
  return levels.includes(env as LogLevel) ? (env as LogLevel) : 'info'
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pinoDestination({ dest: 2, sync: true })
  return pino(
    { name: options.name, level: options.level ?? defaultLogLevel(), base: { node: options.name } },
    destination as DestinationStream,
  )
}

export const silentLogger: Logger = pino({ level: 'silent' })
