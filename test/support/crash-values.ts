/** Deterministic values for crash tests: the child writes them, the parent recomputes and checks them. */
export function valueFor(w: number, i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let j = 0; j < len; j++) b[j] = (w * 31 + i * 7 + j) & 0xff;
  return b;
}
