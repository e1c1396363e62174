import { describe, expect, it } from 'vitest';
import { boundness, classifyJob, cpuBusy, usableCores } from '../harness/analyze/classify.ts';
import { completedCell, failedCell } from './fixtures/results.ts';

/** A cell of `durationMs` that spent `cpuMs` of CPU. */
function cell(concurrency: number, memoryMb: number, durationMs: number, cpuMs: number) {
  const summary = { median: cpuMs, mean: cpuMs, p95: cpuMs, ci95: [cpuMs, cpuMs] as [number, number] };
  return completedCell(concurrency, memoryMb, durationMs, { cpuMs: summary });
}

describe('CPU time over wall time', () => {
  it('counts the cores a job can use: one event loop plus its parse threads, within the vCPUs of the size', () => {
    expect(usableCores(1769, 0)).toBe(1);
    expect(usableCores(3538, 0)).toBe(1);
    expect(usableCores(3538, 4)).toBe(2);
    expect(usableCores(884.5, 2)).toBe(0.5);
  });

  it('is the share of that CPU in use, read as I/O-bound, mixed or CPU-bound', () => {
    expect(cpuBusy(cell(8, 884.5, 1000, 250), 0)).toBe(0.5);
    expect([0.1, 0.3, 0.45, 0.6, 0.9].map(boundness)).toEqual(['io-bound', 'io-bound', 'mixed', 'cpu-bound', 'cpu-bound']);
  });
});

describe('classifying the job', () => {
  it('finds an I/O-bound job that more concurrency still speeds up and more memory does not', () => {
    const cells = [cell(4, 512, 4000, 100), cell(16, 512, 1200, 100), cell(16, 3008, 1180, 100), failedCell(64, 512, 'oom', 'ran out of memory')];
    const job = classifyJob(cells, 0, { concurrency: 16, memoryMb: 512 });
    expect(job).toMatchObject({ kind: 'io-bound', concurrency: 16, memoryMb: 512, bestIsHighest: true });
    expect(job?.cpuBusy).toBeCloseTo(100 / (1200 * (512 / 1769)), 12);
    expect(job?.memoryGain).toBeCloseTo(1 - 1180 / 1200, 12);
    expect(job?.concurrencyGain).toBeCloseTo(0.7, 12);
    expect(job?.advice).toBe(
      'I/O-bound: at 16 workers, 512 MB the CPU is busy 29% of the time it could use; the job waits on the network. More memory does not help: 3008 MB is only 2% faster than 512 MB at 16 workers. More concurrency still helps: 16 workers, the most measured, are 70% faster than 4; sweep higher.',
    );
  });

  it('finds a CPU-bound job that more memory speeds up and more concurrency does not', () => {
    const cells = [cell(8, 256, 10_000, 1300), cell(32, 256, 10_100, 1300), cell(8, 1769, 2000, 1300)];
    const job = classifyJob(cells, 0, { concurrency: 8, memoryMb: 256 });
    expect(job?.kind).toBe('cpu-bound');
    expect(job?.advice).toBe(
      'CPU-bound: at 8 workers, 256 MB the CPU is busy 90% of the time it could use; the job waits on its own CPU. More memory helps: 1769 MB is 80% faster than 256 MB at 8 workers. More concurrency does not help beyond 8 workers: the CPU, not the workers, limits the job. Parsing on a worker pool (work.threads) with more than 1769 MB (more than one vCPU) takes the parse off the event loop.',
    );
  });

  it('reads the fastest cell when no cell is named, and nothing when no cell completed', () => {
    expect(classifyJob([cell(1, 1769, 900, 10), cell(2, 1769, 500, 10)], 0)).toMatchObject({
      concurrency: 2,
      memoryGain: undefined,
      concurrencyGain: 1 - 500 / 900,
    });
    expect(classifyJob([failedCell(1, 128, 'timeout', 'too slow')], 0)).toBeUndefined();
  });
});

describe('advice that counts failures', () => {
  /** A cell that lost `errorRate` of its requests, `kind` the most. */
  function failing(concurrency: number, durationMs: number, errorRate: number, kind: 'http429' | 'timeout') {
    const errorsByKind = { http5xx: 1, http429: 0, timeout: 0, reset: 0, other: 0, [kind]: 40 };
    return completedCell(concurrency, 512, durationMs, { errorRate, errorsByKind, cpuMs: { median: 100, mean: 100, p95: 100, ci95: [100, 100] } });
  }

  it('leaves cells over the error-rate limit out, and names what the higher concurrencies bought', () => {
    const cells = [cell(2, 512, 7000, 100), cell(4, 512, 4000, 100), failing(16, 1200, 0.5, 'http429'), failing(64, 900, 0.62, 'timeout')];
    const job = classifyJob(cells, 0, { concurrency: 4, memoryMb: 512 });
    expect(job).toMatchObject({ concurrency: 4, bestIsHighest: false });
    expect(job?.concurrencyGain).toBeCloseTo(1 - 4000 / 7000, 12);
    expect(job?.advice).toBe(
      'I/O-bound: at 4 workers, 512 MB the CPU is busy 9% of the time it could use; the job waits on the network. More memory (more CPU) would buy little; only one memory size was measured. ' +
        'More concurrency does not help beyond 4 workers. Above 4 workers the job fails: 16 workers lose 50% of requests, mostly to 429s (rate limited); 64 workers lose 62% of requests, mostly to timeouts, over the 1% error-rate limit, so their speed is work not done.',
    );
  });

  it('takes the limit it is given', () => {
    const cells = [cell(4, 512, 4000, 100), failing(16, 1200, 0.5, 'http429')];
    expect(classifyJob(cells, 0, undefined, { maxErrorRate: 0.6 })).toMatchObject({ concurrency: 16 });
    expect(classifyJob(cells, 0)).toMatchObject({ concurrency: 4 });
  });

  it('reads nothing when every cell failed too often', () => {
    expect(classifyJob([failing(16, 1200, 0.5, 'http429')], 0)).toBeUndefined();
  });
});

describe('advice for a deployed function', () => {
  it("does not suggest the built-in job's worker pool, which a deployed function does not have", () => {
    const cells = [cell(8, 256, 10_000, 1300), cell(8, 1769, 2000, 1300)];
    expect(classifyJob(cells, 0, { concurrency: 8, memoryMb: 256 })?.advice).toContain('work.threads');
    expect(classifyJob(cells, 0, { concurrency: 8, memoryMb: 256 }, { deployedFunction: true })?.advice).not.toContain('work.threads');
  });
});

describe('advice on hosts that push back', () => {
  it('names the failed attempts at higher concurrency even when the retries succeeded', () => {
    const retried = (concurrency: number, durationMs: number, http429: number) =>
      completedCell(concurrency, 1769, durationMs, {
        errorsByKind: { http5xx: 0, http429, timeout: 0, reset: 0, other: 0 },
        cpuMs: { median: 50, mean: 50, p95: 50, ci95: [50, 50] },
      });
    // The fixture's cells have 3 repetitions of 10 requests: 30 requests each.
    const cells = [retried(1, 3200, 0), retried(4, 2400, 2), retried(8, 3300, 7), retried(32, 7100, 35)];
    expect(classifyJob(cells, 0, { concurrency: 4, memoryMb: 1769 })?.advice).toBe(
      'I/O-bound: at 4 workers, 1769 MB the CPU is busy 2% of the time it could use; the job waits on the network. More memory (more CPU) would buy little; only one memory size was measured. ' +
        'More concurrency does not help beyond 4 workers. Above 4 workers the hosts push back: 32 workers met 117 failed attempts per 100 requests, mostly 429s (rate limited), and waited to retry them (0% of requests failed for good).',
    );
  });
});
