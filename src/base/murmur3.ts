/**
 * MurmurHash3_x86_32 (Austin Appleby, public domain, as in SMHasher's MurmurHash3.cpp) and its 32-bit
 * finaliser `fmix32`: the one copy behind the table filter (sstable/bloom.ts), the memtable's hash index
 * (src/memtable/group-index.ts) and the transaction key hashes (src/mvcc/key-set.ts).
 * Format: sstable/FILTER-FORMAT.md "Hash" fixes the exact function and seed for filters; changing
 * anything here changes filter bytes on disk, so it needs a new filter format version.
 * Contract: pure, no allocation, safe in a worker; reads bytes [start, end) of `data` in place (no
 * slice), with 0 <= start <= end <= data.length (the caller's job: these are our own key buffers, not
 * file bytes).
 * Why this hash: it reads the input four bytes at a time with Math.imul, so a 16-byte key costs four
 * rounds plus the finaliser (16-25 ns hot on our busy machine, bench/RESULTS-bloom.md), against ~55 ns for
 * xxhash-wasm's h32 (call overhead) and ~11 µs per op for bloom-filters' 64-bit pure-JS hashing.
 * Its avalanche passes SMHasher, which is what a bloom filter and a hash table need; it is not a
 * cryptographic hash.
 * Not here: seeds, probe sequences and bit layout (sstable/bloom.ts).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * MurmurHash3_x86_32 of data[start, end) with `seed`, as an unsigned 32-bit number.
 * Blocks are read little-endian regardless of the host, so the result is the same everywhere.
 */
export function murmurHash3x86_32(data: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  const length = end - start;
  const blockEnd = start + (length & ~3);
  let i = start;
  for (; i < blockEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  // The 1-3 byte tail, little-endian into one word (the reference code's fall-through switch).
  const tail = length & 3;
  if (tail !== 0) {
    let k = data[i]!;
    if (tail >= 2) k |= data[i + 1]! << 8;
    if (tail === 3) k |= data[i + 2]! << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  // NB: the reference mixes in the length as a 32-bit value; keys are far below 4 GiB.
  h ^= length;
  return fmix32(h);
}

/**
 * MurmurHash3's 32-bit finaliser: a bijection on 32-bit values with full avalanche. bloom.ts uses it to
 * derive the probe step from the key hash, so the step is not a cheap function (a rotation) of the start.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
