/** Kept in step with package.json by scripts/check-layers.mjs. */
export const VERSION = '0.1.0';
