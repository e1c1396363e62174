import { describe, expect, it } from 'vitest';
import { classifyJob } from '../harness/analyze/classify.ts';
import { modelWarnings } from '../harness/analyze/model-check.ts';
import { formatSignedPercent } from '../harness/report/format.ts';
import { jobView } from '../harness/report/job.ts';
import { formatSignedDuration, medianMockCpuMs, modelCellText, modelColumns, simulatorTrust } from '../harness/report/simulator.ts';
import { isCompleted, resultsSchema, type CompletedCell } from '../harness/results/schema.ts';
import { completedCell, rep, results } from './fixtures/results.ts';
import { modelledSmallSweep, modelledSweepResults, smallSweep, sweepResults } from './fixtures/sweep-results.ts';

function cellAt(r: ReturnType<typeof smallSweep>, concurrency: number, memoryMb: number): CompletedCell {
  return r.cells.filter(isCompleted).find((c) => c.concurrency === concurrency && c.memoryMb === memoryMb)!;
}

describe('the modelled fixtures', () => {
  it('honour the results contract and carry what the classifier and the model check write', () => {
    for (const fixture of [modelledSmallSweep(), modelledSweepResults()]) expect(resultsSchema.safeParse(fixture).success).toBe(true);
    const small = modelledSmallSweep();
    expect(modelWarnings(small.cells)).toEqual(small.warnings);
    // Some of the fixtures' cells fail more than 1% of their requests; their stored classification counts them all.
    expect(classifyJob(small.cells, 0, { concurrency: 60, memoryMb: 1024 }, { maxErrorRate: 1 })).toEqual({
      ...small.classification,
      memoryGain: 0.09999999999999998,
    });
    expect(classifyJob(modelledSweepResults().cells, 0, { concurrency: 60, memoryMb: 1024 }, { maxErrorRate: 1 })).toEqual(
      modelledSweepResults().classification,
    );
  });
});

describe('signed figures', () => {
  it('show a model error with one decimal, a sign and a true minus', () => {
    expect([0.032, -0.065, 0.0004, -0.0004, 0, 0.25].map(formatSignedPercent)).toEqual(['+3.2%', '−6.5%', '0.0%', '0.0%', '0.0%', '+25.0%']);
  });

  it('show a duration change with its sign, and none at zero', () => {
    expect([-120, 1200, 0, -0.3, -65_000].map(formatSignedDuration)).toEqual(['−120 ms', '+1.2 s', '0 ms', '0 ms', '−65.0 s']);
  });
});

describe('what limits the job', () => {
  it('reads the classification of the recommended cell as a headline, three figures and the advice', () => {
    expect(jobView(modelledSmallSweep().classification)).toEqual({
      kind: 'io-bound',
      headline: 'I/O-bound: the job waits on the network',
      where: '60 workers and 1024 MB',
      figures: [
        { label: 'CPU busy', value: '17%', note: 'of the CPU the job could use, at 60 workers and 1024 MB', helps: undefined },
        { label: 'More memory', value: '10% faster', note: 'the largest memory size swept against the smallest, at 60 workers', helps: true },
        {
          label: 'More concurrency',
          value: '65% faster',
          note: 'the fastest concurrency, the highest swept, against the next lower one at 1024 MB',
          helps: true,
        },
      ],
      advice:
        'I/O-bound: at 60 workers, 1024 MB the CPU is busy 17% of the time it could use; the job waits on the network. More memory helps: 1024 MB is 10% faster than 512 MB at 60 workers. More concurrency still helps: 60 workers, the most measured, are 65% faster than 1; sweep higher.',
    });
  });

  it('says a knob does not help below 5%, past the fastest concurrency, or when it slows the job', () => {
    const view = jobView(modelledSweepResults().classification)!;
    expect(view.headline).toBe('Partly CPU-bound: the job waits on the network and on its own CPU');
    expect(view.figures.map((f) => [f.value, f.helps])).toEqual([
      ['32%', undefined],
      ['42% faster', true],
      ['2% faster', false],
    ]);
    expect(view.figures[2]!.note).toBe('the fastest concurrency against the next lower one at 1024 MB; higher ones were slower');
    const slower = jobView({ ...modelledSweepResults().classification!, kind: 'cpu-bound', memoryGain: -0.031, concurrencyGain: 0.004 })!;
    expect([slower.headline, ...slower.figures.map((f) => f.value)]).toEqual(['CPU-bound: the job waits on its own CPU', '32%', '3% slower', 'no faster']);
  });

  it('says "not measured" where the classifier had one memory size or nothing below the fastest concurrency', () => {
    const view = jobView({ ...modelledSmallSweep().classification!, memoryGain: undefined, concurrencyGain: undefined, bestIsHighest: false })!;
    expect(view.figures.slice(1)).toEqual([
      { label: 'More memory', value: 'not measured', note: 'only one memory size was swept', helps: undefined },
      { label: 'More concurrency', value: 'not measured', note: 'no concurrency below the fastest was swept at 1024 MB', helps: undefined },
    ]);
  });

  it('is absent from a results file written before the classifier', () => {
    expect(jobView(smallSweep().classification)).toBeUndefined();
  });
});

describe('the simulator in the results table', () => {
  it('adds the projected, model error and time-scale correction columns to a modelled, time-scaled sweep', () => {
    expect(modelColumns(modelledSmallSweep())).toEqual({ projected: true, modelError: true, timeScaleCorrection: true });
  });

  it('adds no column to a results file written before the simulator, and no correction at time scale 1', () => {
    expect(modelColumns(smallSweep())).toEqual({ projected: false, modelError: false, timeScaleCorrection: false });
    expect(modelColumns(sweepResults())).toEqual({ projected: false, modelError: false, timeScaleCorrection: false });
    const realTime = modelledSmallSweep({ method: { ...modelledSmallSweep().method, timeScale: 1 } });
    expect(modelColumns(realTime)).toEqual({ projected: true, modelError: true, timeScaleCorrection: false });
  });

  it('writes each cell’s figures, flagging a faithful cell beyond the tolerance only', () => {
    const sweep = modelledSmallSweep();
    expect([cellAt(sweep, 1, 1024), cellAt(sweep, 60, 1024), cellAt(sweep, 60, 512)].map((c) => modelCellText(c))).toEqual([
      { projected: '22.9 s', modelError: '+2.0%', modelErrorOff: false, timeScaleCorrection: '−40 ms' },
      // Fidelity 1.2: the replay is not held to the simulator there.
      { projected: '7.6 s', modelError: '−25.0%', modelErrorOff: false, timeScaleCorrection: '−300 ms' },
      { projected: '8.2 s', modelError: '−6.5%', modelErrorOff: true, timeScaleCorrection: '−600 ms' },
    ]);
  });

  it('writes a dash for a field the cell lacks, and 0 ms for a modelled cell the sweep did not need to correct', () => {
    expect(modelCellText(completedCell(1, 512, 1000))).toEqual({ projected: '–', modelError: '–', modelErrorOff: false, timeScaleCorrection: '–' });
    expect(modelCellText(completedCell(1, 512, 1000, { simulatedMs: 1010, modelError: 0.01 })).timeScaleCorrection).toBe('0 ms');
  });

  it('takes the median of the mock’s CPU over the repetitions that record it', () => {
    expect(medianMockCpuMs(cellAt(modelledSmallSweep(), 60, 512))).toBe(45);
    expect(medianMockCpuMs(completedCell(1, 512, 1000, { reps: [rep(1000, { mockCpuMs: 12 }), rep(1000), rep(1000, { mockCpuMs: 20 })] }))).toBe(16);
    expect(medianMockCpuMs(completedCell(1, 512, 1000))).toBeUndefined();
  });
});

describe('how far to trust the simulator', () => {
  it('counts the faithful cells checked, the worst model error and those beyond the tolerance', () => {
    const trust = simulatorTrust(modelledSmallSweep())!;
    expect(trust.checks.map((c) => [c.concurrency, c.memoryMb, c.modelError])).toEqual([
      [1, 1024, 0.02],
      [1, 512, 0.03],
      [60, 512, -0.065],
    ]);
    expect([trust.withinTolerance, trust.unchecked, trust.tolerance, trust.worst?.concurrency, trust.worst?.memoryMb]).toEqual([2, 1, 0.05, 60, 512]);
    expect(trust.sentence).toBe(
      'Checked against the replay at 3 faithful cells (fidelity at most 1.10): 1 outside the ±5% tolerance, the worst −6.5% at 60 workers and 512 MB. Treat its projected durations with care. 1 more cell was not faithful enough to check.',
    );
  });

  it('says so when every check is within the tolerance', () => {
    const trust = simulatorTrust(modelledSmallSweep(), 0.1)!;
    expect(trust.sentence).toBe(
      'Checked against the replay at 3 faithful cells (fidelity at most 1.10): all within the ±10% tolerance; the worst model error is −6.5% at 60 workers and 512 MB. 1 more cell was not faithful enough to check.',
    );
    const one = simulatorTrust(results([completedCell(8, 1769, 500, { simulatedMs: 505, modelError: 0.01 })]))!;
    expect(one.sentence).toBe(
      'Checked against the replay at 1 faithful cell (fidelity at most 1.10): within the ±5% tolerance; the worst model error is +1.0% at 8 workers and 1769 MB.',
    );
  });

  it('says the projections are unchecked when no modelled cell was faithful', () => {
    const trust = simulatorTrust(results([completedCell(64, 1769, 400, { simulatedMs: 300, modelError: -0.25, fidelityRatio: 1.4 })]))!;
    expect(trust).toMatchObject({ checks: [], withinTolerance: 0, worst: undefined, unchecked: 1 });
    expect(trust.sentence).toBe(
      'No cell was faithful enough (fidelity at most 1.10) to check the simulator against the replay, so its projected durations are unchecked.',
    );
  });

  it('is absent from a results file without model errors', () => {
    expect(simulatorTrust(smallSweep())).toBeUndefined();
    expect(simulatorTrust(sweepResults())).toBeUndefined();
  });
});
