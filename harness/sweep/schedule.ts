import { availableParallelism } from 'node:os';
import { raceState, ROUND_REPS } from '../analyze/race.ts';
import { type CellKey } from '../results/cell-key.ts';
import { isCompleted, type Cell } from '../results/schema.ts';
import type { Scenario } from '../scenario/schema.ts';

/**
 * When and where cells are measured: how many at once, which cells share a process, in what
 * order, and how long a race's rounds and confirmations will take. Pure but for runPool.
 */

/** The cores one cell may use when `parallelCells` run at once (at least one). */
export function coresPerCell(parallelCells: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / parallelCells));
}

/**
 * The processes one cell keeps busy: the job's, and with the `net` backend the servers' beside it,
 * in a process of their own. Measured on the seed with two cells at once on two cores, the four
 * processes took cores from each other in bursts, and the simulator's error at a setting varied
 * from one memory size to the next about twice as much (a standard deviation of 2.0-2.2 points
 * against 1.1 with one cell at a time).
 */
export function processesPerCell(backend: string | undefined): number {
  return backend === 'net' ? 2 : 1;
}

/**
 * The largest time scale a net sweep runs at when `--time-scale` is not given. Over real
 * connections the client's handshakes and socket I/O and the servers' work run in real time, so
 * at time scale S they weigh S times as much against the latencies. Measured on the seed on this
 * project's machine (docs/method.md): at 16 a cell's repetitions spread 3% to 7% and 4 to 8
 * faithful cells per sweep were more than 5% off the simulator; at 4 they spread 0.4% to 1.8% and
 * every faithful cell was within 5%, in three sweeps. The cost is time: the seed's default net
 * sweep took 158 s at 4, 58 s at 16.
 */
export const NET_MAX_TIME_SCALE = 4;

/** The time scale a sweep runs at when `--time-scale` is not given: the scenario's, at most NET_MAX_TIME_SCALE on net. */
export function defaultTimeScale(scenario: Pick<Scenario, 'sweep'>, backend: string | undefined): number {
  return backend === 'net' ? Math.min(scenario.sweep.timeScale, NET_MAX_TIME_SCALE) : scenario.sweep.timeScale;
}

/**
 * How many cells to measure at once when the user does not say: a core per busy process, since
 * each process's event loop uses one (processesPerCell); but one at a time when rows go to a real
 * database, which the cells would share (and whose write times they would then distort), or when
 * the job parses on a worker pool, which needs more than one core; and never more cells than
 * there are.
 */
export function defaultParallelCells(scenario: Scenario, cellCount: number, cores: number = availableParallelism(), processes = 1): number {
  if (scenario.sink.kind !== 'model' || scenario.work.threads > 0) return 1;
  return Math.max(1, Math.min(Math.floor(cores / processes), cellCount));
}

/**
 * Whether cells of one memory size may share a process. They may for the built-in job writing to
 * the modelled database: a warm container serving one invocation after another, with nothing
 * carried from one to the next but warm code. Not for a user's handler, which may read MAX_WORKERS
 * once at load or keep state between calls, nor for a real database, whose table would grow from
 * cell to cell.
 */
export function cellsShareProcess(scenario: Scenario): boolean {
  return !scenario.workload && scenario.sink.kind === 'model';
}

/**
 * The cells each process measures, in the order the processes start. Sharing: one process per
 * memory size (one heap limit, one CPU quota), split further when there are fewer sizes than
 * lanes so that every lane has work; the longest cells first within a process, and the processes
 * with the most work first. Not sharing: a process per cell, the longest first.
 */
export function planProcesses(cells: readonly CellKey[], lanes: number, idealMs: (key: CellKey) => number, share: boolean): CellKey[][] {
  const ordered = longestFirst(cells, idealMs);
  if (!share) return ordered.map((key) => [key]);
  const bySize = new Map<string, CellKey[]>();
  for (const key of ordered) {
    const size = `${key.memoryMb}/${key.architecture}`;
    bySize.set(size, [...(bySize.get(size) ?? []), key]);
  }
  const splits = Math.ceil(lanes / bySize.size);
  const processes = [...bySize.values()].flatMap((sizeCells) => {
    const parts = Array.from({ length: Math.min(splits, sizeCells.length) }, (): CellKey[] => []);
    sizeCells.forEach((key, index) => parts[index % parts.length]!.push(key));
    return parts;
  });
  const work = (keys: readonly CellKey[]) => keys.reduce((sum, key) => sum + idealMs(key), 0);
  return processes
    .map((keys, index) => ({ keys, index, ms: work(keys) }))
    .sort((a, b) => b.ms - a.ms || a.index - b.index)
    .map(({ keys }) => keys);
}

/** The cells to confirm in real time: the winner, and its equivalents (at most 2 in all). */
export function finalistsOf(state: ReturnType<typeof raceState>): CellKey[] {
  if (!state) return [];
  const { winner } = state.picked;
  const equivalents = state.rivals.filter((rival) => rival.verdict === 'equivalent').map((rival) => rival.key);
  return [{ concurrency: winner.concurrency, memoryMb: winner.memoryMb, architecture: winner.architecture }, ...equivalents].slice(0, MAX_FINALISTS);
}

const MAX_FINALISTS = 2;

/** Confirming takes a warm-up and one invocation in real time per finalist, plus the process start. */
export function confirmEstimateS(keys: readonly CellKey[], cellOf: (key: CellKey) => Cell | undefined, lanes: number): number {
  return spreadOverLanes(keys, cellOf, lanes, (medianMs) => (2 * medianMs) / 1000 + ROUND_PROCESS_S);
}

/** Seconds of the cells' work (from each one's median duration, 0 if unknown) shared out over the lanes. */
function spreadOverLanes(
  keys: readonly CellKey[],
  cellOf: (key: CellKey) => Cell | undefined,
  lanes: number,
  secondsFor: (medianMs: number) => number,
): number {
  const total = keys.reduce((sum, key) => {
    const cell = cellOf(key);
    return sum + secondsFor(cell && isCompleted(cell) ? cell.durationMs.median : 0);
  }, 0);
  return total / Math.max(1, Math.min(lanes, keys.length));
}

/** Process start and warm-up of a round's cell process, s: a rough allowance on this project's machine. */
const ROUND_PROCESS_S = 1.5;

/**
 * How long a race round will take, s: each cell's median duration in real time (scenario time
 * divided by the time scale) for ROUND_REPS invocations, plus a process start for each, spread
 * over the lanes.
 */
export function roundEstimateS(keys: readonly CellKey[], cellOf: (key: CellKey) => Cell | undefined, timeScale: number, lanes: number): number {
  return spreadOverLanes(keys, cellOf, lanes, (medianMs) => (medianMs / timeScale / 1000) * ROUND_REPS + ROUND_PROCESS_S);
}

/**
 * The cells in the order to measure them: the longest (by ideal makespan) first, so that cells
 * measured side by side finish together instead of one long cell running alone at the end. Ties
 * keep the grid's order.
 */
export function longestFirst(cells: readonly CellKey[], idealMs: (key: CellKey) => number): CellKey[] {
  return cells
    .map((key, index) => ({ key, index, ms: idealMs(key) }))
    .sort((a, b) => b.ms - a.ms || a.index - b.index)
    .map(({ key }) => key);
}

/**
 * Runs `task` on every item, at most `width` at a time, in order of the items. After the first
 * failure no new item starts; the ones running finish, then the failure is thrown.
 */
export async function runPool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, lane));
  if (failure) throw failure.error;
}
