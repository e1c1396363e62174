import { criticalPath, simulate } from '../../model/simulate.ts';
import { planRequests } from '../../scenario/plan.ts';
import type { Scenario } from '../../scenario/schema.ts';
import { formatDuration, workers } from '../format.ts';
import { CHART_CONFIG, CHART_WIDTH, PALETTE, round, type ReportChart } from './common.ts';

/** Above this many requests the chart shows the critical path and the longest of the others. */
export const WATERFALL_MAX_ROWS = 400;
const ROW_PX = 5;

export interface WaterfallRow {
  /** The request's place in the plan (0-based). */
  request: number;
  /** Rank by start time: the bar's row, top to bottom. */
  row: number;
  host: string;
  url: string;
  startS: number;
  doneS: number;
  critical: boolean;
  tooltip: string;
}

/**
 * The requests of one invocation at `concurrency`, as the ideal schedule has them (the simulator
 * with an infinitely fast client: the same draws, capacities, rate limits and retries the replay
 * serves), each from its first send until its worker was free again, and whether it is on the
 * critical path: the chain of requests the invocation's end waited on.
 */
export function waterfallRows(scenario: Scenario, concurrency: number): WaterfallRow[] {
  const plan = planRequests(scenario);
  const { timeline } = simulate(scenario, { concurrency, timeline: true });
  if (!timeline) return [];
  const onPath = new Set(criticalPath(timeline));
  const order = plan.map((_, request) => request).sort((a, b) => timeline.startMs[a]! - timeline.startMs[b]! || a - b);
  const shown = new Set(
    order.length <= WATERFALL_MAX_ROWS
      ? order
      : [
          ...onPath,
          ...order
            .filter((request) => !onPath.has(request))
            .sort((a, b) => timeline.doneMs[b]! - timeline.startMs[b]! - (timeline.doneMs[a]! - timeline.startMs[a]!))
            .slice(0, Math.max(0, WATERFALL_MAX_ROWS - onPath.size)),
        ],
  );
  return order
    .filter((request) => shown.has(request))
    .map((request, row) => {
      const startMs = timeline.startMs[request]!;
      const doneMs = timeline.doneMs[request]!;
      const critical = onPath.has(request);
      const { host, url } = plan[request]!;
      return {
        request,
        row,
        host,
        url,
        startS: round(startMs / 1000),
        doneS: round(doneMs / 1000),
        critical,
        tooltip: `${url}: ${formatDuration(startMs)} to ${formatDuration(doneMs)} (${formatDuration(doneMs - startMs)})${critical ? ', on the critical path' : ''}`,
      };
    });
}

export function waterfallChart(scenario: Scenario, concurrency: number, memoryMb: number): ReportChart {
  const rows = waterfallRows(scenario, concurrency);
  const total = planRequests(scenario).length;
  const subset = rows.length < total ? ` (the critical path and the ${rows.length} longest of ${total} requests)` : '';
  return {
    id: 'waterfall',
    title: `Requests over one invocation at ${workers(concurrency)}`,
    caption:
      'Each bar is a request, from its first send until its worker was free for the next, in the ideal schedule at the recommended concurrency (an infinitely fast client; the replay measures the rest). Outlined in red: the critical path, the chain of requests the invocation waited on: shorten one of those, or start it sooner, and the job ends sooner.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: {
        text: `Requests over one invocation: ${workers(concurrency)}, ${memoryMb} MB`,
        subtitle: `Ideal schedule${subset}; red outline: the critical path`,
      },
      width: CHART_WIDTH,
      height: Math.max(120, rows.length * ROW_PX),
      config: CHART_CONFIG,
      data: { values: rows },
      mark: { type: 'bar', height: Math.max(1, ROW_PX - 1) },
      encoding: {
        x: { field: 'startS', type: 'quantitative', title: 'Time since the invocation started (s)' },
        x2: { field: 'doneS' },
        y: { field: 'row', type: 'ordinal', title: 'Requests, by start', axis: null },
        color: { field: 'host', type: 'nominal', title: 'Host' },
        stroke: { condition: { test: 'datum.critical', value: PALETTE.pick }, value: null },
        strokeWidth: { condition: { test: 'datum.critical', value: 2 }, value: 0 },
        tooltip: { field: 'tooltip', type: 'nominal' },
      },
    },
  };
}
