import type { NetClient, NetMeasurement, NetServer } from './net-spec.ts';
import { median } from '../analyze/statistics.ts';
import { table, type Target } from './summary.ts';

/**
 * Pure: the `net` part of the benchmark. Each row is one measurement (server, client,
 * concurrency); a comparison pairs the `net` backend's row with the floor's (a bare node:http
 * server) at the same client and concurrency; the targets are checked against the comparisons.
 */

export interface NetRow {
  server: NetServer;
  client: NetClient;
  concurrency: number;
  requests: number;
  idealMs: number;
  /** Median over the timed invocations of measured / ideal makespan. */
  ratio: number;
  ratios: number[];
  /** Median CPU per request of the job process, us. */
  jobCpuUsPerRequest: number;
  /** Median CPU per request of the server process (serverCpuMs / requests), us. */
  serverCpuUsPerRequest: number;
  /** Median connections the server accepted per invocation. */
  connections: number;
  /** Peak RSS of the job process, MB. */
  peakRssMb: number;
  errors: number;
}

export interface NetComparison {
  client: NetClient;
  concurrency: number;
  netRatio: number;
  floorRatio: number;
  /** Makespan of net / makespan of the floor (the ideal cancels out). */
  makespanRatio: number;
  netServerUs: number;
  floorServerUs: number;
  serverCpuRatio: number;
  netPeakRssMb: number;
}

/** The limits: net makespan against the floor's at c = 100 and 1000, server CPU per request. */
export const NET_MAKESPAN_LIMITS: ReadonlyArray<{ concurrency: number; limit: number }> = [
  { concurrency: 100, limit: 1.1 },
  { concurrency: 1000, limit: 1.25 },
];
export const NET_SERVER_CPU_LIMIT = 1.5;

export function netRow(measurement: NetMeasurement): NetRow {
  const { spec, idealMs, reps } = measurement;
  const ratios = reps.map((rep) => rep.durationMs / idealMs);
  return {
    server: spec.server,
    client: spec.client,
    concurrency: spec.concurrency,
    requests: spec.requests,
    idealMs,
    ratio: median(ratios),
    ratios,
    jobCpuUsPerRequest: median(reps.map((rep) => (rep.cpuMs * 1000) / spec.requests)),
    serverCpuUsPerRequest: median(reps.map((rep) => (rep.serverCpuMs * 1000) / spec.requests)),
    connections: median(reps.map((rep) => rep.connectionsOpened)),
    peakRssMb: measurement.peakRssMb,
    errors: reps.reduce((n, rep) => n + rep.errors, 0),
  };
}

/** Each (client, concurrency) measured on both servers, in the order of the net rows. */
export function netComparisons(rows: readonly NetRow[]): NetComparison[] {
  return rows.flatMap((net) => {
    if (net.server !== 'net') return [];
    const floor = rows.find((row) => row.server === 'floor' && row.client === net.client && row.concurrency === net.concurrency);
    if (!floor) return [];
    return [
      {
        client: net.client,
        concurrency: net.concurrency,
        netRatio: net.ratio,
        floorRatio: floor.ratio,
        makespanRatio: net.ratio / floor.ratio,
        netServerUs: net.serverCpuUsPerRequest,
        floorServerUs: floor.serverCpuUsPerRequest,
        serverCpuRatio: net.serverCpuUsPerRequest / floor.serverCpuUsPerRequest,
        netPeakRssMb: net.peakRssMb,
      },
    ];
  });
}

const x = (value: number) => `${value.toFixed(2)}x`;

/**
 * Per client: net makespan within 1.10x of the floor's at c = 100 and 1.25x at c = 1000; and the
 * replay server's CPU per request within 1.5x of the bare server's, at the worst concurrency of
 * 100 and up (below that each request meets a mostly idle, cold process, as in the in-process rows).
 */
export function netTargets(rows: readonly NetRow[]): Target[] {
  const comparisons = netComparisons(rows);
  const targets: Target[] = [];
  for (const client of ['undici', 'fetch'] as const) {
    for (const { concurrency, limit } of NET_MAKESPAN_LIMITS) {
      const c = comparisons.find((row) => row.client === client && row.concurrency === concurrency);
      if (!c) continue;
      targets.push({
        name: `net/floor makespan, ${client}, c=${concurrency}`,
        target: `<= ${limit.toFixed(2)}`,
        measured: `${x(c.makespanRatio)} (${x(c.netRatio)} vs ${x(c.floorRatio)} ideal)`,
        met: c.makespanRatio <= limit,
      });
    }
    const steady = comparisons.filter((row) => row.client === client && row.concurrency >= 100);
    if (steady.length) {
      const worst = steady.reduce((a, b) => (b.serverCpuRatio > a.serverCpuRatio ? b : a));
      targets.push({
        name: `net/floor server CPU per request, ${client}, c >= 100`,
        target: `<= ${NET_SERVER_CPU_LIMIT.toFixed(2)}`,
        measured: `worst ${x(worst.serverCpuRatio)} at c=${worst.concurrency} (${worst.netServerUs.toFixed(0)} vs ${worst.floorServerUs.toFixed(0)} us)`,
        met: worst.serverCpuRatio <= NET_SERVER_CPU_LIMIT,
      });
    }
  }
  return targets;
}

/** The comparison table, then every measurement with all its invocations. */
export function formatNet(rows: readonly NetRow[]): string {
  const comparisons = table(
    ['client', 'c', 'N', 'net/ideal', 'floor/ideal', 'net/floor', 'server us/req net', 'floor', 'net/floor', 'job peak RSS MB'],
    netComparisons(rows).map((c) => {
      const n = rows.find((row) => row.server === 'net' && row.client === c.client && row.concurrency === c.concurrency)!;
      return [
        c.client,
        String(c.concurrency),
        String(n.requests),
        x(c.netRatio),
        x(c.floorRatio),
        x(c.makespanRatio),
        c.netServerUs.toFixed(0),
        c.floorServerUs.toFixed(0),
        x(c.serverCpuRatio),
        c.netPeakRssMb.toFixed(0),
      ];
    }),
  );
  const measurements = table(
    ['server', 'client', 'c', 'measured/ideal (each invocation)', 'job us/req', 'server us/req', 'connections', 'peak RSS MB', 'errors'],
    rows.map((row) => [
      row.server,
      row.client,
      String(row.concurrency),
      `${x(row.ratio)} (${row.ratios.map((r) => r.toFixed(2)).join(' ')})`,
      row.jobCpuUsPerRequest.toFixed(0),
      row.serverCpuUsPerRequest.toFixed(0),
      String(row.connections),
      row.peakRssMb.toFixed(0),
      String(row.errors),
    ]),
  );
  return [comparisons, '', measurements].join('\n');
}
