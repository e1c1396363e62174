import { describe, expect, it } from 'vitest';
import { checkModel, modelWarnings } from '../harness/analyze/model-check.ts';
import { completedCell, failedCell } from './fixtures/results.ts';

const cells = [
  completedCell(1, 1769, 1000, { simulatedMs: 1020, modelError: 0.02, fidelityRatio: 1.01 }),
  completedCell(8, 1769, 500, { simulatedMs: 460, modelError: -0.08, fidelityRatio: 1.05 }),
  // Not faithful: the harness limited the replay, so the simulator is not held to it.
  completedCell(64, 1769, 400, { simulatedMs: 300, modelError: -0.25, fidelityRatio: 1.4 }),
  // Measured before the simulator was recorded: nothing to check.
  completedCell(2, 1769, 700),
  failedCell(128, 1769, 'oom', 'ran out of memory'),
];

describe('the validation of the simulator against the replay', () => {
  it('checks only completed, faithful cells that carry a model error', () => {
    expect(checkModel(cells)).toEqual([
      { concurrency: 1, memoryMb: 1769, fidelityRatio: 1.01, modelError: 0.02, withinTolerance: true },
      { concurrency: 8, memoryMb: 1769, fidelityRatio: 1.05, modelError: -0.08, withinTolerance: false },
    ]);
    expect(checkModel(cells, 0.1).map((check) => check.withinTolerance)).toEqual([true, true]);
  });

  it('warns once, naming the worst faithful cell', () => {
    expect(modelWarnings(cells)).toEqual([
      'Model: at 1 faithful cell(s) the simulator and the replay differ by more than 5% (worst -8.0% at concurrency 8, 1769 MB): treat --simulate answers and projectedMs for this scenario with care, and rerun on a quieter machine or with more --reps.',
    ]);
    expect(modelWarnings(cells, 0.1)).toEqual([]);
  });

  it('names the time scale as a remedy when the sweep was time-scaled', () => {
    const scaled = [completedCell(8, 1769, 500, { simulatedMs: 465, modelError: -0.07, fidelityRatio: 1.05, timeScaleCorrectionMs: 40 })];
    expect(modelWarnings(scaled)).toEqual([
      'Model: at 1 faithful cell(s) the simulator and the replay differ by more than 5% (worst -7.0% at concurrency 8, 1769 MB): treat --simulate answers, the time-scale corrections and projectedMs for this scenario with care, and rerun on a quieter machine or with more --reps or a lower --time-scale.',
    ]);
  });
});
