import { describe, expect, it } from 'vitest';
import { formatSummaryTable } from '../harness/report/terminal.ts';
import { modelledSmallSweep, smallSweep } from './fixtures/sweep-results.ts';

describe('the sweep summary in the terminal', () => {
  it('has the same columns as before for a file without the simulator’s figures, and no trailing spaces', () => {
    expect(formatSummaryTable(smallSweep()).split('\n')).toEqual([
      'concurrency  memory MB  state      median s     95% CI s  p95 s  errors  ideal s  fidelity  $/month',
      '-----------  ---------  ---------  --------  -----------  -----  ------  -------  --------  -------',
      '1            1024       completed     23.00  21.85-24.15  23.46    0.0%    23.00     1.00x     1.87',
      '60           1024       completed      8.10    7.70-8.51   8.26   10.0%     6.75   1.20x !     1.16',
      '1            512        completed     24.00  22.80-25.20  24.48    0.0%    24.00     1.00x     1.00',
      '60           512        completed      9.00    8.55-9.45   9.18    0.0%     9.00     1.00x     0.60',
      '128          512        oom',
    ]);
  });

  it('adds the projected production duration and the model error, marking a faithful cell beyond the tolerance', () => {
    expect(formatSummaryTable(modelledSmallSweep()).split('\n')).toEqual([
      'concurrency  memory MB  state      median s     95% CI s  projected s  p95 s  errors  ideal s  fidelity  model err  $/month',
      '-----------  ---------  ---------  --------  -----------  -----------  -----  ------  -------  --------  ---------  -------',
      '1            1024       completed     23.00  21.85-24.15        22.90  23.46    0.0%    23.00     1.00x      +2.0%     1.87',
      '60           1024       completed      8.10    7.70-8.51         7.60   8.26   10.0%     6.75   1.20x !     -25.0%     1.16',
      '1            512        completed     24.00  22.80-25.20        23.70  24.48    0.0%    24.00     1.00x      +3.0%     1.00',
      '60           512        completed      9.00    8.55-9.45         8.20   9.18    0.0%     9.00     1.00x    -6.5% !     0.60',
      '128          512        oom',
    ]);
  });

  it('shows no interval for a cell measured once, as the race leaves the cells it screened out', () => {
    const results = smallSweep();
    const once = results.cells.map((cell) =>
      cell.state === 'completed' && cell.concurrency === 1 && cell.memoryMb === 1024 ? { ...cell, reps: cell.reps.slice(0, 1) } : cell,
    );
    const lines = formatSummaryTable({ ...results, cells: once }).split('\n');
    expect(lines[2]).toBe('1            1024       completed     23.00            -  23.46    0.0%    23.00     1.00x     1.87');
    expect(lines[3]).toContain('7.70-8.51');
  });
});
