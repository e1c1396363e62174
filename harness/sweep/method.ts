import { availableParallelism } from 'node:os';
import { CONTENDER_MARGIN, ROUND_REPS } from '../analyze/race.ts';
import { MOCKS_NAME } from '../mock/all-clients.ts';
import { backendFor } from '../mock/choose-backend.ts';
import { type Method } from '../results/schema.ts';
import { type CpuController } from '../run/cgroup.ts';
import { fileDescriptorQuotaApplies } from '../run/lambda-quotas.ts';
import { LAMBDA_FILE_DESCRIPTORS, LAMBDA_PROCESSES } from '../model/lambda.ts';
import { type LoopbackCost } from '../run/loopback-cost.ts';
import type { ConnectCpu } from '../model/calibrate.ts';
import { planRequests } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { FIDELITY_LIMIT } from './build-cell.ts';
import { type JournalMethod } from './journal.ts';
import { cellsShareProcess, coresPerCell, NET_MAX_TIME_SCALE } from './schedule.ts';
import { WARMUP_CONCURRENCY, WARMUP_INVOCATIONS, type Placement, type SweepPlan } from './sweep.ts';

/** The results' `method`: how this sweep measured, in fields and in the notes the report prints. */

export function methodOf(
  plan: SweepPlan,
  /** The CPU controller; for a deployed function, its groups' controller, which may also hold its processes and threads. */
  controller: (Pick<CpuController, 'kind'> & { holdsTasks?: boolean }) | undefined,
  placement: Placement,
  loopback: LoopbackCost | undefined,
  connect: ConnectCpu | undefined,
  sinkTimerLateMs?: number,
): Method {
  const parallelCells = plan.parallelCells ?? 1;
  const cores = coresPerCell(parallelCells);
  const processes = cellsShareProcess(plan.scenario)
    ? `Cells of one memory size share a Node process (one heap limit, one CPU quota), as a warm Lambda container serves one invocation after another; each process starts with ${WARMUP_INVOCATIONS} untimed warm-up invocation`
    : `Each cell runs in a fresh Node process (${plan.scenario.workload ? 'your handler may keep state between calls' : 'the database is real'}), with ${WARMUP_INVOCATIONS} untimed warm-up invocation`;
  const notes = [
    `${processes} (at concurrency ${WARMUP_CONCURRENCY} or the first cell's, whichever is higher: it only loads modules and warms the JIT), excluded from the timings. A cell that fails ends its process; the next cell gets a fresh one. On Linux each cell's peak memory is its own (the process's high-water mark is reset before each cell).`,
    plan.functionSpec
      ? `The ideal makespan of each cell is what an infinitely fast client would reach with the same draws, capacities and rate limits. For a deployed function measured/ideal is not a check of the harness: what the function's runtime, threads and TLS add over the ideal is its own cost, which it pays on Lambda too.`
      : `The ideal makespan of each cell is what an infinitely fast client and mock would reach with the same draws, capacities and rate limits; measured/ideal above ${FIDELITY_LIMIT} means the harness itself was a bottleneck.`,
  ];
  if (controller) {
    notes.push(
      `Memory sizes are applied as a CPU quota (${controller.kind}) of memory/1769 of a core${plan.timeScale > 1 ? ` times the time scale ${plan.timeScale}` : ''}, ${plan.timeScale === 1 || plan.functionSpec ? 'throttled in 20 ms periods as Lambda throttles' : "throttled in 10 ms periods (longer below 177 MB x the time scale, where the quota would fall under the kernel's 1 ms)"}, capped at ${parallelCells > 1 ? `the ${cores} core(s) each of the ${parallelCells} cells measured at once had` : `this machine's ${cores} cores`}${plan.functionSpec ? ", and a memory cgroup limit of the memory size for the function's whole process tree" : ''}.`,
    );
  } else if (plan.cpuThrottle === 'none') {
    notes.push('No CPU quota was applied: memory sizes differ only by their heap and price.');
  } else {
    notes.push(
      'No writable cgroup here: each cell ran at full speed and its duration was projected to the memory size with a first-order model (the CPU time stretched by 1769/memory, the I/O time unchanged). It assumes all CPU work sits on the critical path, so it overstates the slowdown of small sizes for a job whose CPU work hides behind slow responses. Run as root on Linux for measured cgroup throttling.',
    );
  }
  if (fileDescriptorQuotaApplies()) {
    notes.push(
      `${plan.functionSpec ? "The function's runtime" : "Each cell's process"} could hold at most ${LAMBDA_FILE_DESCRIPTORS} open file descriptors at once, Lambda's quota: a job that keeps more sockets or files open fails with EMFILE, as it would on Lambda.`,
    );
  }
  if (plan.functionSpec && controller?.holdsTasks) {
    notes.push(
      `The function's processes and threads together could number at most ${LAMBDA_PROCESSES}, Lambda's quota: a thread pool or child process that would pass it fails to start, as it would on Lambda.`,
    );
  }
  if (!plan.functionSpec || plan.functionSpec.language === 'node') {
    notes.push(
      `${plan.functionSpec ? 'The function' : "Each cell's process"} ran Node with the flags Lambda's Node.js runtime gives the memory size: a young generation of a tenth of it (two semi-spaces of a twentieth), the rest for the old space, and gc() exposed.`,
    );
  }
  notes.push(
    "The simulator (harness/model/simulate.ts) is calibrated per cell from its repetitions: the parse is timed with tinybench on the scenario's own bodies, the client overhead per attempt is the rest of the measured CPU time. simulatedMs is the simulator's makespan for the replay as it ran; modelError = simulatedMs / measured median - 1.",
    `projectedMs is the simulator's duration in production: the mock's own CPU time (mockCpuMs, timed around its work${backendFor(plan.scenario.client.library) === 'msw' ? "; msw's internal Request/Response handling is not separable and stays in the client's share, so msw projections are slightly pessimistic" : ''}) is left out and the CPU runs at the memory size's share of a core.`,
  );
  if (plan.timeScale > 1) {
    notes.push(
      `Latencies ran ${plan.timeScale}x shorter and durations were scaled back. CPU work does not shrink with them: where the quota cannot grow ${plan.timeScale}x (${controller ? `above ${Math.round(1769 / plan.timeScale)} MB, where one thread would need more than a core` : 'at every size: no quota was applied'}) the CPU looked slower than it is${placement.backend === 'net' ? `, and the loopback servers' own real-time work (their CPU per attempt, recorded as serverCpuMs) looked ${plan.timeScale}x larger` : ''}; each cell's timeScaleCorrectionMs, the simulator's estimate of the time that added, is subtracted from its durations.`,
    );
  }
  if (plan.scenario.workload) {
    notes.push(
      `The job is your handler (${'module' in plan.scenario.workload ? plan.scenario.workload.module : 'a Lambda function'}); its requests, retries and errors were counted on the mock servers' side. The ideal makespan assumes the built-in client's timeouts and retries (scenario "client"), so a fidelity ratio far from 1 may mean your handler retries differently, not that the harness was slow.`,
    );
    if (plan.timeScale > 1)
      notes.push("Your handler's own timeouts and waits do not shrink with the time scale; run it at time scale 1 for durations you can trust.");
  }
  if (plan.scenario.sink.kind !== 'model') {
    notes.push(
      `Rows were written to a real database (${plan.scenario.sink.kind}); its write times count in full and are not scaled${plan.scenario.sink.kind === 'pglite' ? ', and PGlite runs inside the cell process, so its CPU and memory count against the cell' : ''}. The ideal makespan counts writes as instant.`,
    );
  }
  if (parallelCells > 1) {
    notes.push(
      `${parallelCells} cells were measured at a time, each in its own process${controller ? ' under its own quota' : ''} and with ${cores} of this machine's ${availableParallelism()} cores to itself; a sweep that stops loses at most those ${parallelCells} cells. Run with --parallel 1 to measure one cell at a time.`,
    );
  }
  notes.push(...placementNotes(placement, loopback));
  if (placement.backend === 'net' && plan.timeScale === NET_MAX_TIME_SCALE && plan.scenario.sweep.timeScale > NET_MAX_TIME_SCALE) {
    notes.push(
      `The net backend swept at time scale ${NET_MAX_TIME_SCALE}, not the scenario's ${plan.scenario.sweep.timeScale} (sweep.timeScale): over real connections the client's handshakes and socket I/O and the servers' work run in real time, so they weigh as many times more against the latencies as the time scale is higher, and at ${plan.scenario.sweep.timeScale} the replay varied more from one repetition to the next than the simulator's 5% tolerance (docs/method.md). Pass --time-scale to choose another.`,
    );
  }
  if (connect !== undefined) {
    notes.push(
      `Each new connection cost the job's client ${connect.connectCpuMs.toFixed(3)} ms of CPU on a full core (the ${plan.scenario.client.library} client's side of the TCP${usesTls(plan.scenario) ? ' and TLS' : ''} handshake, measured against a loopback server at the sweep's start), ${connect.openCpuMs.toFixed(3)} ms of it spent opening the connection before its first round trip${connect.helloCpuMs ? ` and ${connect.helloCpuMs.toFixed(3)} ms on the TLS hello once the TCP connect was done` : ''}; the simulator charges it per connection the servers counted, divided by the memory size's CPU share, the opening when the connection starts${connect.helloCpuMs ? ', the hello when its TCP round trip is done' : ''} and the rest when the server has answered.${connect.serverCpuMs !== undefined ? ` The servers spent ${connect.serverCpuMs.toFixed(3)} ms of CPU per new connection (the accept and their half of the handshake); modelling the replay as it ran, the simulator has them accept one connection from each host in turn, on the loop that also reads the attempts, and charges the rest of their CPU to the attempts.` : ''}`,
    );
  }
  if (sinkTimerLateMs !== undefined && Math.abs(sinkTimerLateMs) >= 0.005) {
    notes.push(
      `The modelled database's writes wait on Node timers, which fired ${Math.abs(sinkTimerLateMs).toFixed(2)} ms ${sinkTimerLateMs > 0 ? 'late' : 'early'} on average for this scenario's writes at time scale ${plan.timeScale} on this machine (a timer never fires under 1 ms; measured at the sweep's start), and each host's latency timers ran late or early as each cell measured (latencyTimerLateMs). The simulator, modelling the replay as it ran, adds both to every wait, ${plan.timeScale} times larger in scenario time, and the time-scale correction subtracts what that added over real time (docs/job-model.md, The replay's timers).`,
    );
  }
  if (plan.race) {
    notes.push(
      `Raced (--reps auto): every cell was measured ${plan.reps} time(s) to screen the grid; then, in rounds of ${ROUND_REPS}, more repetitions went to the winner and to the settings within ${CONTENDER_MARGIN * 100}% of it until each was worse at 95% confidence, or equivalent within ${plan.race.equivalence * 100}%, or ${plan.race.budgetS} s had passed. The other cells keep their screening repetition: their intervals are absent, and they were not candidates. recommendation.decision says how it ended.`,
    );
  } else if (plan.reps < 3) notes.push(`Only ${plan.reps} repetition(s) per cell: confidence intervals are wide or absent.`);
  return {
    ...measuredHow(plan, controller, placement),
    ...(connect !== undefined
      ? {
          connectCpuMs: connect.connectCpuMs,
          connectOpenCpuMs: connect.openCpuMs,
          ...(connect.helloCpuMs ? { connectHelloCpuMs: connect.helloCpuMs } : {}),
          ...(connect.serverCpuMs !== undefined ? { serverConnectCpuMs: connect.serverCpuMs } : {}),
        }
      : {}),
    ...(loopback ? { loopback } : {}),
    notes,
  };
}

/**
 * What of the method changes the numbers a cell measures: a journal keeps it, and a sweep resumes
 * only from a journal measured the same way, so that no results file mixes cells of two methods.
 */
export function measuredHow(
  plan: Pick<SweepPlan, 'scenario' | 'timeScale' | 'reps' | 'race' | 'cpuThrottle' | 'parallelCells'>,
  controller: unknown,
  placement: Placement,
): JournalMethod {
  const parallelCells = plan.parallelCells ?? 1;
  return {
    // A user's handler may use any client, so every in-process backend serves it; the built-in job uses one.
    backend: placement.backend === 'net' ? 'net' : plan.scenario.workload ? MOCKS_NAME : backendFor(plan.scenario.client.library),
    isolation: placement.fenced ? 'namespace' : 'none',
    cpuThrottle: controller ? 'cgroup' : plan.cpuThrottle === 'none' ? 'none' : 'model',
    timeScale: plan.timeScale,
    reps: plan.reps,
    ...(plan.race ? { race: { budgetS: plan.race.budgetS, equivalence: plan.race.equivalence } } : {}),
    warmupInvocations: WARMUP_INVOCATIONS,
    ...(parallelCells > 1 ? { parallelCells } : {}),
  };
}

export function usesTls(scenario: Scenario): boolean {
  return planRequests(scenario).some((request) => request.url.startsWith('https:'));
}

export function placementNotes(placement: Placement, loopback: LoopbackCost | undefined): string[] {
  const notes: string[] = [];
  if (placement.fenced) {
    notes.push(
      "Each cell process ran in a network namespace of its own where only loopback exists: the scenario's hosts resolve there through a hosts file, any other name finds no name server, and no socket can reach beyond this machine, whatever client, Worker or child process the job uses.",
    );
  }
  if (placement.backend === 'net') {
    notes.push(
      `The scenario's hosts were real HTTP/1.1 servers on loopback in each cell's namespace (TLS on https URLs, with a certificate per host from a CA made for this sweep, trusted through NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE), in a process outside the cell's CPU quota: the job paid for its own connections, handshakes and socket I/O and for none of the servers' work.${loopback ? ` One loopback HTTP round trip cost ${loopback.wallUsPerRoundTrip} us of wall time and ${loopback.cpuUsPerRoundTrip} us of CPU (client and server together) on this machine, over ${loopback.roundTrips} kept-alive round trips at the sweep's start; a native Linux kernel takes a fraction of that, so socket-heavy cells here are somewhat pessimistic.` : ''}`,
    );
  } else {
    notes.push(
      "The mocks ran inside the job's process: no TCP connect, TLS handshake or socket I/O was paid, and the mock's own CPU counted against the job's share (mockCpuMs; the projection leaves it out).",
    );
  }
  if (placement.fallback) notes.push(`Fallback: ${placement.fallback}.`);
  return notes;
}
