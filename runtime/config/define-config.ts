import type { OckamConfig } from './schema.js'

/**
 * Identity at run time; at edit time it gives `ockam.config.ts` its types, so an editor
 * completes and checks every field.
 */
export function defineConfig<const T extends OckamConfig>(config: T): T {
  return config
}
