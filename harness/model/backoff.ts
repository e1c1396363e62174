/**
 * The client's wait after a failed attempt that was not a 429 (5xx, reset, timeout):
 * `backoffMs * 2^attempt`, attempt 0 being the first try (docs/job-model.md, The client). One
 * implementation for the built-in job (harness/workload/scraper.ts) and the simulator
 * (harness/model/simulate.ts). In scenario milliseconds: a time-scaled replay divides it.
 */
export function backoffAfterMs(backoffMs: number, attempt: number): number {
  return backoffMs * 2 ** attempt;
}
