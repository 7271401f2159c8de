/**
 * CLI output rules (DESIGN §12): data on stdout, everything else (progress, logs, hints) on
 * stderr; progress only when stdout is a terminal; errors as one line with a hint and a
 * non-zero exit code.
 */
import { isOckamError, OckamError } from '../errors.js'

export type OutputFormat = 'text' | 'json'

export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export interface Output {
  readonly format: OutputFormat
  /** Prints a result: `json` as one JSON document, `text` through `human`. */
  data(value: unknown, human?: (value: unknown) => string): void
  /** A progress line on stderr, only when stdout is a terminal (so `> file` stays clean). */
  progress(line: string): void
}

export function createOutput(format: string | undefined): Output {
  if (format !== undefined && format !== 'text' && format !== 'json') {
    throw new OckamError('OCKAM_ERR_CLI_USAGE', `--output must be "text" or "json", got "${format}"`)
  }
  const chosen: OutputFormat = format ?? 'text'
  return {
    format: chosen,
    data(value, human) {
      if (chosen === 'json') process.stdout.write(`${JSON.stringify(value)}\n`)
      else process.stdout.write(`${human === undefined ? String(value) : human(value)}\n`)
    },
    progress(line) {
      if (process.stdout.isTTY === true) process.stderr.write(`${line}\n`)
    },
  }
}

/** Prints an error as one line (or JSON with --output json) and returns the exit code. */
export function reportError(error: unknown, format: OutputFormat = 'text'): number {
  const usage = isOckamError(error, 'OCKAM_ERR_CLI_USAGE')
  if (isOckamError(error)) {
    if (format === 'json') process.stderr.write(`${JSON.stringify({ error: error.toJSON() })}\n`)
    else process.stderr.write(`error: ${error.oneLine()}\n`)
  } else {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(
      `error: OCKAM_ERR_INTERNAL: ${message}. This is a bug; please report it with the command you ran\n`,
    )
  }
  return usage ? EXIT_USAGE : EXIT_FAILURE
}
