/**
 * Loads `ockam.config.ts`. Node 20 cannot import TypeScript, so the config file alone goes
 * through tsx's `tsImport` (DESIGN §12); the rest of the package is compiled JavaScript.
 */
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { OckamError } from '../errors.js'
import { type ValidConfig, validateConfig } from './schema.js'

export const DEFAULT_CONFIG_FILE = 'ockam.config.ts'

export async function loadConfig(file: string = DEFAULT_CONFIG_FILE): Promise<ValidConfig> {
  const path = resolve(file)
  try {
    await access(path)
  } catch {
    throw new OckamError('OCKAM_ERR_CONFIG_NOT_FOUND', `no config file at ${path}`, {
      hint: 'pass --config FILE or run from the folder that holds ockam.config.ts',
    })
  }
  let module: { default?: unknown }
  try {
    if (path.endsWith('.ts') || path.endsWith('.mts')) {
      const { tsImport } = await import('tsx/esm/api')
      module = (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown }
    } else {
      module = (await import(pathToFileURL(path).href)) as { default?: unknown }
    }
  } catch (cause) {
    throw new OckamError('OCKAM_ERR_CONFIG_LOAD_FAILED', `cannot load ${path}: ${(cause as Error).message}`, {
      cause,
      hint: 'fix the error above; the file must `export default defineConfig({...})`',
    })
  }
  return checkConfig(unwrapInterop(module.default), path)
}

/**
 * A `.ts` file outside an ESM package (no `"type": "module"` above it) is compiled as CommonJS,
 * and its `export default` arrives one level down as `{ default: … }` (plus `__esModule`).
 */
function unwrapInterop(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('default' in value)) return value
  const keys = Object.keys(value).filter((k) => k !== '__esModule')
  return keys.length === 1 ? (value as { default: unknown }).default : value
}

export function checkConfig(value: unknown, source: string): ValidConfig {
  const result = validateConfig(value)
  if (result.ok) return result.config
  const lines = result.issues.map((issue) => `  ${issue.path}: ${issue.message}`)
  throw new OckamError(
    'OCKAM_ERR_CONFIG_INVALID',
    `${source} has ${result.issues.length} mistake${result.issues.length > 1 ? 's' : ''}:\n${lines.join('\n')}`,
    { data: { issues: result.issues } },
  )
}
