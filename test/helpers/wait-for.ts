/**
 * Polls `probe` every 50 ms until it returns a value, and returns it; throws naming `what` after
 * `timeoutMs` (40 s by default: a sweep's cell starts slowly on a loaded CI machine).
 */
export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
