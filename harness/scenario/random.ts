/**
 * Counter-based randomness: every draw is a pure function of (seed, request index, attempt,
 * stream). That is what makes the i-th request identical in every cell (common random numbers),
 * whatever order the requests happen to be issued in.
 */

/** The independent things drawn for one request attempt. */
export const STREAM = { latency: 1, body: 2, fault: 3, sink: 4, jitter: 5 } as const;
export type Stream = (typeof STREAM)[keyof typeof STREAM];

function mix32(x: number): number {
  // The finaliser of MurmurHash3: a bijection on 32-bit integers with full avalanche.
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A uniform number in [0, 1) that depends only on its arguments. */
export function uniformAt(seed: number, index: number, attempt: number, stream: Stream, draw = 0): number {
  let h = mix32(seed ^ 0x9e3779b9);
  h = mix32(h ^ index);
  h = mix32(h ^ Math.imul(attempt + 1, 0x27d4eb2d));
  h = mix32(h ^ Math.imul(stream, 0x165667b1));
  h = mix32(h ^ Math.imul(draw + 1, 0x61c88647));
  // 32 bits are plenty for latency draws; (0, 1) keeps log() and inverse CDFs finite.
  return (h + 0.5) / 4294967296;
}

/** A seeded sequence for pure code that needs many draws (bootstrap, simulation tie-breaks). */
export function seededSequence(seed: number, stream: Stream = STREAM.jitter): () => number {
  let draw = 0;
  return () => uniformAt(seed, 0, 0, stream, draw++);
}
