/**
 * Reads Lambda's per-invocation REPORT records out of a CloudWatch Logs export. Pure: text in,
 * records out; the caller reads the file and decides what an empty answer means.
 *
 * What it understands (docs/production.md cites AWS's pages for each):
 * - the text REPORT line of the plain-text log format,
 *   `REPORT RequestId: <id>\tDuration: 718.65 ms\tBilled Duration: 719 ms\tMemory Size: 128 MB\tMax Memory Used: 14 MB[\tInit Duration: 333.05 ms]`,
 *   its fields separated by tabs or by one or more spaces, SnapStart's `Restore Duration` and
 *   `Billed Restore Duration` included, anywhere on a line (so behind the timestamp and log
 *   stream name `aws logs tail` prints, or between the columns of `--output text`);
 * - the JSON log format's and the Telemetry API's `platform.report` event,
 *   `{"time": ..., "type": "platform.report", "record": {"requestId": ..., "metrics": {"durationMs": ..., "billedDurationMs": ..., "memorySizeMB": ..., "maxMemoryUsedMB": ..., "initDurationMs": ...}}}`;
 * - either of those inside the JSON that `aws logs filter-log-events` prints (`events[].message`),
 *   or in an array of such events or messages.
 * Every other line or value is ignored. A request ID seen twice counts once.
 */

export interface LambdaReport {
  requestId: string;
  /** The handler's duration, INIT excluded. */
  durationMs: number;
  /** What Lambda billed for the invocation (since 2025-08-01 the INIT phase of a cold start included). */
  billedDurationMs: number;
  memorySizeMb?: number;
  maxMemoryUsedMb?: number;
  /** Present on a cold start. */
  initDurationMs?: number;
  /** SnapStart: present when the environment was restored from a snapshot (a cold start too). */
  restoreDurationMs?: number;
  billedRestoreDurationMs?: number;
}

const REPORT_START = /\bREPORT RequestId:\s*(\S+)/;
/** One `Label: number unit` field; the unit is consumed, so the next label starts cleanly. */
const FIELD = /([A-Za-z]+(?: [A-Za-z]+)*):\s*(\d+(?:\.\d+)?)\s*(ms|MB)\b/g;

const TEXT_FIELDS: Record<string, keyof Omit<LambdaReport, 'requestId'>> = {
  Duration: 'durationMs',
  'Billed Duration': 'billedDurationMs',
  'Memory Size': 'memorySizeMb',
  'Max Memory Used': 'maxMemoryUsedMb',
  'Init Duration': 'initDurationMs',
  'Restore Duration': 'restoreDurationMs',
  'Billed Restore Duration': 'billedRestoreDurationMs',
};

const JSON_METRICS: Record<string, keyof Omit<LambdaReport, 'requestId'>> = {
  durationMs: 'durationMs',
  billedDurationMs: 'billedDurationMs',
  memorySizeMB: 'memorySizeMb',
  maxMemoryUsedMB: 'maxMemoryUsedMb',
  initDurationMs: 'initDurationMs',
  restoreDurationMs: 'restoreDurationMs',
  billedRestoreDurationMs: 'billedRestoreDurationMs',
};

/** A text REPORT line, or undefined when the line holds none (or one without its two durations). */
export function parseReportLine(line: string): LambdaReport | undefined {
  const start = REPORT_START.exec(line);
  if (!start) return undefined;
  const fields: Partial<LambdaReport> = {};
  for (const match of line.slice(start.index + start[0].length).matchAll(FIELD)) {
    const key = TEXT_FIELDS[match[1]!];
    if (key && fields[key] === undefined) fields[key] = Number(match[2]);
  }
  return complete(start[1]!, fields);
}

/** A `platform.report` event as an object, or undefined when the value is none. */
export function parsePlatformReport(value: unknown): LambdaReport | undefined {
  if (!isObject(value) || value.type !== 'platform.report' || !isObject(value.record)) return undefined;
  const { requestId, metrics } = value.record;
  if (typeof requestId !== 'string' || !isObject(metrics)) return undefined;
  const fields: Partial<LambdaReport> = {};
  for (const [name, key] of Object.entries(JSON_METRICS)) {
    const metric = metrics[name];
    if (typeof metric === 'number' && Number.isFinite(metric) && metric >= 0) fields[key] = metric;
  }
  return complete(requestId, fields);
}

function complete(requestId: string, fields: Partial<LambdaReport>): LambdaReport | undefined {
  if (fields.durationMs === undefined || fields.billedDurationMs === undefined) return undefined;
  return { requestId, ...fields } as LambdaReport;
}

/** Every REPORT record in a log export, in the order they appear, each request once. */
export function parseLambdaReports(text: string): LambdaReport[] {
  const found = new Map<string, LambdaReport>();
  const add = (report: LambdaReport | undefined) => {
    if (report && !found.has(report.requestId)) found.set(report.requestId, report);
  };
  const whole = tryJson(text.trim());
  if (whole !== undefined) {
    walkJson(whole, add);
  } else {
    for (const line of text.split(/\r?\n/)) parseLine(line, add);
  }
  return [...found.values()];
}

function parseLine(line: string, add: (report: LambdaReport | undefined) => void): void {
  if (line.includes('platform.report')) {
    // A JSON event, possibly behind the timestamp and stream name `aws logs tail` prints.
    const brace = line.indexOf('{');
    const value = brace >= 0 ? tryJson(line.slice(brace).trim()) : undefined;
    if (value !== undefined) {
      walkJson(value, add);
      return;
    }
  }
  add(parseReportLine(line));
}

/** filter-log-events output, an array of events, a single event, or a message string. */
function walkJson(value: unknown, add: (report: LambdaReport | undefined) => void): void {
  if (typeof value === 'string') {
    for (const line of value.split(/\r?\n/)) parseLine(line, add);
  } else if (Array.isArray(value)) {
    for (const item of value) walkJson(item, add);
  } else if (isObject(value)) {
    if (value.type === 'platform.report') add(parsePlatformReport(value));
    else if (Array.isArray(value.events)) walkJson(value.events, add);
    else if (typeof value.message === 'string') walkJson(value.message, add);
  }
}

function tryJson(text: string): unknown {
  if (!text.startsWith('{') && !text.startsWith('[')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A JSON object (not an array, not null): what both readers of AWS output walk. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
