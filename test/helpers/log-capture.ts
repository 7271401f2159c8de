/** A log destination that keeps parsed JSON lines, so tests can assert what a node logged. */
import { createLogger, type Logger } from '../../runtime/log.js'

export interface CapturedLog {
  readonly log: Logger
  readonly lines: Array<Record<string, unknown>>
  /** Lines whose `code` field equals `code`. */
  withCode(code: string): Array<Record<string, unknown>>
}

export function captureLog(name: string): CapturedLog {
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({
    name,
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  })
  return { log, lines, withCode: (code) => lines.filter((l) => l.code === code) }
}
