import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { newCommand, runCli } from '../harness/cli.ts';
import { EXIT, InputError } from '../harness/errors.ts';
import { parseRecording, RECORD_FILE_VARIABLE, recordingToHar, requestSpanMs } from '../harness/record/recording.ts';
import { formatDuration } from '../harness/report/format.ts';
import { writeJsonAtomic } from '../harness/results/io.ts';
import { onExit } from '../harness/run/on-exit.ts';
import { makeTempDir } from '../harness/run/temp-dirs.ts';
import { importHar } from '../harness/scenario/har.ts';
import { checkScenarioName, checkScenarioOut, importSummary, writeScenarioFile } from '../harness/scenario/import-output.ts';
import { toolVersion } from '../harness/version.ts';

interface Options {
  name?: string;
  force?: boolean;
  har?: string;
}

/** NODE_OPTIONS for the job: the TypeScript loader, then the recorder, each an absolute URL quoted for spaces. */
function recorderNodeOptions(existing: string | undefined): string {
  const imports = [import.meta.resolve('tsx'), new URL('../harness/record/preload.ts', import.meta.url).href].map((url) => `--import "${url}"`);
  return [existing ?? '', ...imports].filter(Boolean).join(' ');
}

function runJob(command: string, args: string[], recordFile: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, args, {
      stdio: 'inherit',
      env: { ...process.env, NODE_OPTIONS: recorderNodeOptions(process.env.NODE_OPTIONS), [RECORD_FILE_VARIABLE]: recordFile },
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new InputError({
              field: 'command',
              problem: `"${command}" was not found`,
              fix: 'give the command that runs the job after --, e.g. -- node my-job.js',
            })
          : error,
      ),
    );
    // Stopped with the recorder (SIGTERM from a CI runner, a Ctrl-C in another terminal).
    const stopJob = onExit(() => child.kill('SIGTERM'));
    child.on('exit', (code, signal) => {
      stopJob();
      resolve({ code, signal, wallMs: performance.now() - began });
    });
  });
}

await runCli(async () => {
  const program = newCommand('record')
    .description(
      'Run a Node.js job once for real, watching its HTTP requests (fetch, node:http/https), and write a scenario of what it did: the requests in order, and per host the latencies, body sizes and status codes',
    )
    .argument('<out>', 'scenario file to write, e.g. scenarios/my-job.json')
    .argument('<command...>', 'after --, the command that runs the job, e.g. -- node my-job.js')
    .option('--name <name>', 'scenario name, [a-z0-9-]+ (default: from the OUT file name)')
    .option('--har <file>', 'also keep the recording as a HAR file')
    .option('--force', 'overwrite OUT (and --har) if it exists')
    .parse(process.argv);
  const [out, commandLine] = program.processedArgs as [string, string[]];
  const options = program.opts<Options>();
  checkScenarioName(options.name);
  checkScenarioOut(out, options.force, 'OUT');
  if (options.har !== undefined) checkScenarioOut(options.har, options.force, '--har');
  const [command, ...args] = commandLine;

  const dir = makeTempDir('record');
  const forgetDir = onExit(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const recordFile = join(dir, 'exchanges.jsonl');
    process.stderr.write(`record: running ${commandLine.join(' ')} for real: its requests go to the network\n`);
    const run = await runJob(command!, args, recordFile);
    let text = '';
    try {
      text = readFileSync(recordFile, 'utf8');
    } catch {
      // No line at all: the job made no request the recorder saw.
    }
    const exchanges = parseRecording(text);
    if (run.code !== 0) {
      process.stderr.write(`record: the job ${run.signal ? `was killed by ${run.signal}` : `exited with code ${run.code}`}; no scenario written\n`);
      return EXIT.failed;
    }
    if (exchanges.length === 0) {
      process.stderr.write(
        'record: the job made no request the recorder saw (it watches global fetch and node:http/https in Node.js processes); no scenario written\n',
      );
      return EXIT.failed;
    }
    const har = recordingToHar(exchanges, { name: 'fanout-tuner record', version: toolVersion() });
    const { scenario, notes } = importHar(har, { file: commandLine.join(' '), name: options.name ?? basename(out, extname(out)) });
    const spanMs = requestSpanMs(exchanges);
    scenario.description = `Recorded from \`${commandLine.join(' ')}\`: ${exchanges.length} requests; they spanned ${formatDuration(spanMs)} (${Math.round(spanMs)} ms) of the job's ${formatDuration(run.wallMs)}.`;
    // The recorder sees HTTP only: a database's writes are not in the recording, so none are invented.
    scenario.sink = { kind: 'model', latencyMs: { dist: 'fixed', value: 0 }, poolSize: 1, batchSize: 1 };
    notes.push(
      "the recorder sees HTTP only: the sink writes nothing and costs no time; set sink to your database's write latency, or to a real PostgreSQL (docs/scenarios.md)",
    );
    notes.push(`the recorded requests ran as the job ran them; sweep concurrency 1 to compare with the recording (${Math.round(spanMs)} ms)`);
    writeScenarioFile(out, scenario);
    if (options.har !== undefined) writeJsonAtomic(options.har, har);
    process.stdout.write(importSummary(out, scenario, notes));
    return EXIT.ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forgetDir();
  }
});
