import { FIDELITY_LIMIT, isCompleted, type Results } from '../results/schema.ts';
import { modelCellText, modelColumns } from './simulator.ts';

/**
 * Pure: the sweep's summary table for a terminal, one row per cell. The simulator's projection
 * and model error get a column only when some cell carries them.
 */
export function formatSummaryTable(results: Results): string {
  const columns = modelColumns(results);
  const header = [
    'concurrency',
    'memory MB',
    'state',
    'median s',
    '95% CI s',
    ...(columns.projected ? ['projected s'] : []),
    'p95 s',
    'errors',
    'ideal s',
    'fidelity',
    ...(columns.modelError ? ['model err'] : []),
    '$/month',
  ];
  const rows = results.cells.map((cell) => {
    if (!isCompleted(cell)) return [String(cell.concurrency), String(cell.memoryMb), cell.state, ...header.slice(3).map(() => '')];
    const s = (ms: number) => (ms / 1000).toFixed(2);
    const model = modelCellText(cell);
    return [
      String(cell.concurrency),
      String(cell.memoryMb),
      cell.state,
      s(cell.durationMs.median),
      // One repetition (a cell the race screened and left) gives no interval.
      cell.reps.length < 2 ? '-' : `${s(cell.durationMs.ci95[0])}-${s(cell.durationMs.ci95[1])}`,
      ...(columns.projected ? [cell.projectedMs === undefined ? '-' : s(cell.projectedMs)] : []),
      s(cell.durationMs.p95),
      `${(cell.errorRate * 100).toFixed(1)}%`,
      s(cell.idealMs),
      `${cell.fidelityRatio.toFixed(2)}x${cell.fidelityRatio > FIDELITY_LIMIT ? ' !' : ''}`,
      // ASCII like the rest of the table: a hyphen for the minus sign and for a missing value.
      ...(columns.modelError ? [cell.modelError === undefined ? '-' : `${model.modelError.replace('−', '-')}${model.modelErrorOff ? ' !' : ''}`] : []),
      cell.costUsd.perMonth.toFixed(2),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  // A failed cell's empty columns would otherwise leave a run of trailing spaces.
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
