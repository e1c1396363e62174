import { describe, expect, it } from 'vitest';
import { failureWarnings, fidelityWarnings, fileDescriptorWarnings } from '../harness/sweep/warnings.ts';
import { completedCell, failedCell, rep } from './fixtures/results.ts';

describe('the sweep warnings', () => {
  it('name the lowest concurrency where the harness itself became the bottleneck, and the worst cell', () => {
    const cells = [
      completedCell(1, 1769, 1000, { fidelityRatio: 1.02 }),
      completedCell(64, 1769, 1000, { fidelityRatio: 1.18 }),
      completedCell(128, 1769, 1000, { fidelityRatio: 1.4 }),
    ];
    expect(fidelityWarnings(cells)).toEqual([
      'Fidelity: from concurrency 64 (1769 MB) the replay took 1.18x its ideal makespan (limit 1.1); the harness itself became the bottleneck there. Worst: 1.40x at concurrency 128, 1769 MB. Durations of 2 cell(s) overstate what the job would take.',
    ]);
  });

  it('do not blame the harness for the slower CPU of small memory sizes', () => {
    const cells = [completedCell(4, 256, 1000, { fidelityRatio: 1.3 }), completedCell(4, 1769, 1000, { fidelityRatio: 1.03 })];
    expect(fidelityWarnings(cells)).toEqual([]);
    // ... unless the small size is the largest one swept.
    expect(fidelityWarnings([completedCell(4, 512, 1000, { fidelityRatio: 1.3 })])).toHaveLength(1);
  });

  it("do not blame the harness for what a deployed function's own runtime adds over the ideal", () => {
    const cells = [completedCell(60, 1769, 1000, { fidelityRatio: 1.4 })];
    expect(fidelityWarnings(cells)).toHaveLength(1);
    expect(fidelityWarnings(cells, { deployedFunction: true })).toEqual([]);
  });

  it('list every cell that did not complete, with its cause', () => {
    expect(failureWarnings([completedCell(1, 128, 1), failedCell(8, 128, 'oom', 'the job ran out of memory (heap limit 88 MB)')])).toEqual([
      'concurrency 8, 128 MB, x86_64 ended as oom: the job ran out of memory (heap limit 88 MB)',
    ]);
  });

  it('name the cells whose job ran out of file descriptors, lowest concurrency first, with their failed attempts', () => {
    const cells = [
      completedCell(1000, 1769, 1000, { reps: [rep(1000, { descriptorFailures: 700 }), rep(1000, { descriptorFailures: 686 })] }),
      completedCell(500, 1769, 1000, { reps: [rep(1000), rep(1000)] }),
      completedCell(800, 1769, 1000, { reps: [rep(1000, { descriptorFailures: 3 })] }),
      failedCell(2000, 1769, 'errored', 'the job failed'),
    ];
    expect(fileDescriptorWarnings(cells)).toEqual([
      "File descriptors: the job's process held as many open files and sockets as Lambda allows (1024), and its next connections could not open (EMFILE, counted as resets): concurrency 800, 1769 MB, x86_64: 3 attempt(s); concurrency 1000, 1769 MB, x86_64: 1386 attempt(s). On Lambda these concurrencies fail alike; keep the concurrency (and the connections each worker keeps open) below the quota.",
    ]);
    expect(fileDescriptorWarnings(cells.slice(1, 2))).toEqual([]);
  });
});
