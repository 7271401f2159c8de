/** Largest JSON specification a resource may record, in bytes of UTF-8. */
export const DEFAULT_RESOURCE_MAX_SPEC_BYTES = 16 * 1024

/** Resources one node may record (each is a listener, channel, portal…: this is far above use). */
export const DEFAULT_RESOURCE_MAX_PER_NODE = 1024

/** Resource names: what `--name` and the kinds' default names may be. */
export const RESOURCE_NAME_PATTERN = /^[A-Za-z0-9_.:[\]@/-]{1,255}$/
