import type { Config, TopLevelSpec } from 'vega-lite';

/** One chart of the report: a Vega-Lite spec with its data inlined, plus the words around it. */
export interface ReportChart {
  /** File-safe name: reports/<scenario>/<id>.svg and the HTML container #chart-<id>. */
  id: string;
  title: string;
  /** One sentence on what to look for. */
  caption: string;
  spec: TopLevelSpec;
}

export const CHART_WIDTH = 460;
export const CHART_HEIGHT = 260;

/** Colours the HTML page and the charts share. */
export const PALETTE = {
  ink: '#1f2933',
  muted: '#52606d',
  grid: '#e4e7eb',
  pick: '#d62728',
  warning: '#b44d12',
  failed: '#cbd2d9',
} as const;

export const CHART_CONFIG: Config = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
  background: '#ffffff',
  padding: 8,
  view: { stroke: null },
  title: { anchor: 'start', fontSize: 15, fontWeight: 600, color: PALETTE.ink, subtitleColor: PALETTE.muted, subtitleFontSize: 12, offset: 12 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 500,
    labelColor: PALETTE.muted,
    titleColor: PALETTE.ink,
    gridColor: PALETTE.grid,
    domainColor: '#9aa5b1',
    tickColor: '#9aa5b1',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 500, labelColor: PALETTE.ink, titleColor: PALETTE.ink },
  header: { labelFontSize: 12, labelColor: PALETTE.ink, titleFontSize: 12 },
  point: { size: 36, filled: true },
  line: { strokeWidth: 2 },
};

/**
 * Concurrency on a log-2 axis: 1, 2, 4 ... 128 are evenly spaced and the ticks sit exactly on
 * the values measured, so no tick suggests a value that was not run.
 */
export function concurrencyX(concurrencies: readonly number[]) {
  return {
    field: 'concurrency',
    type: 'quantitative' as const,
    title: 'Concurrency (workers, log scale)',
    scale: { type: 'log' as const, base: 2, nice: false, padding: 12 },
    axis: { values: [...concurrencies], format: 'd', labelOverlap: 'greedy' as const, grid: false },
  };
}

/**
 * Memory sizes are ordinal: each has its own colour (ordered light to dark) and lines only join
 * concurrencies of the same size, never sizes that were not measured.
 */
export function memoryColor(seriesOrder: readonly string[]) {
  return {
    field: 'series',
    type: 'ordinal' as const,
    title: 'Memory',
    sort: [...seriesOrder],
    scale: { domain: [...seriesOrder], scheme: { name: 'viridis', extent: [0.85, 0.05] } },
  };
}

/**
 * A log scale where every value is positive (costs span orders of magnitude across memory
 * sizes), linear otherwise: a free tier or zero invocations a month makes costs 0, which a
 * log scale cannot place.
 */
export function logIfPositive(values: readonly number[]): { type: 'log' | 'linear'; words: string } {
  return values.every((v) => v > 0) ? { type: 'log', words: ', log scale' } : { type: 'linear', words: '' };
}

/** Six significant digits for the data embedded in specs: small files, stable diffs, no visible loss. */
export function round(value: number): number {
  return Number(value.toPrecision(6));
}
