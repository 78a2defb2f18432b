// Compaction filters for tests (plain JavaScript: compaction workers import it without a TypeScript loader).
// Each export is (key: Buffer, value: Buffer, level: number) => 'keep' | 'remove' | { value }.

/** Removes every entry whose value starts with 'x'. */
export function dropX(_key, value) {
  return value.length > 0 && value[0] === 0x78 ? 'remove' : 'keep';
}

/** Upper-cases the value of every key starting with 'u'. */
export function upper(key, value) {
  return key.length > 0 && key[0] === 0x75 ? { value: Buffer.from(value.toString('latin1').toUpperCase(), 'latin1') } : 'keep';
}

/** Throws on the key 'boom'. */
export function throwsOnBoom(key) {
  if (key.toString() === 'boom') throw new Error('filter exploded on purpose');
  return 'keep';
}

/** Answers something that is not a decision. */
export function badReturn() {
  return 42;
}

/** Answers a Promise (filters are synchronous). */
export function asyncFilter() {
  return Promise.resolve('keep');
}

export const notAFunction = 5;

/** Records the level it was called with in the value (for the level argument). */
export function tagLevel(key, _value, level) {
  return key.toString().startsWith('lvl') ? { value: Buffer.from(`L${level}`) } : 'keep';
}
