/** stratadb/level: the abstract-level adapter (see strata-level.ts). */
export { StrataLevel, toLevelError } from './strata-level.js';
export type { StrataLevelOptions } from './strata-level.js';
