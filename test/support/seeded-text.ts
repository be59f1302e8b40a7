// Reproducible random strings for invariant tests: an xorshift32 generator (no Math.random), drawing from a pool of
// awkward characters.

/** A generator of strings of 0..maxLength - 1 characters from `pool`, the same sequence for the same seed. */
export function seededText(seed: number, pool: readonly string[], maxLength: number): () => string {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return () =>
    Array.from({ length: Math.floor(next() * maxLength) }, () => pool[Math.floor(next() * pool.length)]).join("");
}
