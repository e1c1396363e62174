import { FIDELITY_LIMIT, isCompleted, type Results } from '../results/schema.ts';

/** Pure: the sweep's summary table for a terminal, one row per cell. */
export function formatSummaryTable(results: Results): string {
  const header = ['concurrency', 'memory MB', 'state', 'median s', '95% CI s', 'p95 s', 'errors', 'ideal s', 'fidelity', '$/month'];
  const rows = results.cells.map((cell) => {
    if (!isCompleted(cell)) return [String(cell.concurrency), String(cell.memoryMb), cell.state, '', '', '', '', '', '', ''];
    const s = (ms: number) => (ms / 1000).toFixed(2);
    return [
      String(cell.concurrency),
      String(cell.memoryMb),
      cell.state,
      s(cell.durationMs.median),
      `${s(cell.durationMs.ci95[0])}-${s(cell.durationMs.ci95[1])}`,
      s(cell.durationMs.p95),
      `${(cell.errorRate * 100).toFixed(1)}%`,
      s(cell.idealMs),
      `${cell.fidelityRatio.toFixed(2)}x${cell.fidelityRatio > FIDELITY_LIMIT ? ' !' : ''}`,
      cell.costUsd.perMonth.toFixed(2),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
