import { describe, expect, it } from 'vitest';
import { cellsToMeasureAgain, checkModel, modelWarnings } from '../harness/analyze/model-check.ts';
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

describe('the cells measured again before the sweep warns about itself', () => {
  const oneRep = (cell: ReturnType<typeof completedCell>) => ({ ...cell, reps: cell.reps.slice(0, 1) });

  it('takes single-repetition cells off the simulator, or off the ideal where the harness is judged, the furthest off first', () => {
    const cells = [
      oneRep(completedCell(4, 1769, 1000, { modelError: -0.02, fidelityRatio: 1.02 })),
      oneRep(completedCell(8, 1769, 1000, { modelError: -0.06, fidelityRatio: 1.03 })),
      oneRep(completedCell(16, 1769, 1000, { modelError: 0.09, fidelityRatio: 1.03 })),
      // Unfaithful where the harness is judged (a whole core): its fidelity, not its model error, counts.
      oneRep(completedCell(32, 1769, 1000, { modelError: -0.3, fidelityRatio: 1.12 })),
      // At 128 MB the fidelity does not judge the harness (the job's own CPU share limits it), but a cell off the simulator is measured again.
      oneRep(completedCell(32, 128, 1000, { modelError: -0.3, fidelityRatio: 1.5 })),
      // Unfaithful where not judged, and near the simulator: left alone.
      oneRep(completedCell(64, 128, 1000, { modelError: -0.03, fidelityRatio: 1.5 })),
    ];
    expect(cellsToMeasureAgain(cells, 3).map((cell) => `${cell.concurrency}@${cell.memoryMb}`)).toEqual(['32@1769', '32@128', '16@1769', '8@1769']);
    expect(cellsToMeasureAgain(cells, 3, { tolerance: 0.1 }).map((cell) => `${cell.concurrency}@${cell.memoryMb}`)).toEqual(['32@1769', '32@128']);
    // Judged by its model error alone: a deployed function's fidelity judges the function, not the harness.
    const unfaithfulOnly = oneRep(completedCell(4, 1769, 1000, { modelError: 0, fidelityRatio: 1.3 }));
    expect(cellsToMeasureAgain([unfaithfulOnly], 3).map((cell) => cell.concurrency)).toEqual([4]);
    expect(cellsToMeasureAgain([unfaithfulOnly], 3, { deployedFunction: true })).toEqual([]);
  });

  it('leaves a disagreement that already rests on enough repetitions to the warning', () => {
    const threeReps = completedCell(8, 1769, 1000, { modelError: -0.06, fidelityRatio: 1.03 });
    expect(cellsToMeasureAgain([threeReps], 3)).toEqual([]);
    expect(cellsToMeasureAgain([threeReps], 4)).toEqual([threeReps]);
    expect(cellsToMeasureAgain([failedCell(8, 1769, 'oom', 'ran out of memory')], 3)).toEqual([]);
  });
});
