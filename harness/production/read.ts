import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { readJsonFile } from '../scenario/load.ts';
import type { Results } from '../results/schema.ts';
import { parseLambdaReports, type LambdaReport } from './cloudwatch.ts';
import { comparePowerTuning, readPowerTuningOutput, type PowerTuningView } from './power-tuning.ts';

/** The REPORT records of a log export, from a file or "-" for stdin; none at all is bad input. */
export function readProductionLogs(file: string): LambdaReport[] {
  const name = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError({
      file: name,
      field: '--production',
      problem: code === 'ENOENT' ? 'no such log file' : `cannot read the logs (${code ?? String(error)})`,
      fix: code === 'ENOENT' ? 'check the path, or pass - and pipe the logs in' : 'check the file permissions',
    });
  }
  const reports = parseLambdaReports(text);
  if (reports.length === 0) {
    throw new InputError({
      file: name,
      field: '--production',
      problem: 'holds no REPORT record (neither a "REPORT RequestId: ..." line nor a "platform.report" event)',
      fix: "export the function's log group with its REPORT lines, e.g. aws logs filter-log-events --log-group-name /aws/lambda/NAME --filter-pattern '\"REPORT RequestId\"' > logs.json",
    });
  }
  return reports;
}

/**
 * A Power Tuning output file against the results: at the concurrency given, or else the
 * recommended one (the setting exported with recommend --format power-tuning).
 */
export function readPowerTuningView(outputFile: string, results: Results, resultsFile: string, concurrency?: number): PowerTuningView {
  const measurements = readPowerTuningOutput(readJsonFile(outputFile, 'Power Tuning output'), outputFile);
  const at = concurrency ?? results.recommendation?.concurrency;
  if (at === undefined) {
    throw new InputError({
      file: resultsFile,
      field: 'recommendation',
      problem: 'is absent, so the concurrency Power Tuning ran at is unknown',
      fix: 'pass --concurrency N, the concurrency the function ran at',
    });
  }
  const architecture = results.recommendation?.architecture ?? results.scenario.lambda.architecture;
  return { source: outputFile, concurrency: at, rows: comparePowerTuning(results.cells, measurements, { concurrency: at, architecture }) };
}
