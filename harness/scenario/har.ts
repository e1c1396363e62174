import { median } from './distributions.ts';
import { InputError } from '../errors.ts';
import { LIMITS, requestGroupSchema, scenarioSchema, type Distribution, type ScenarioInput } from './schema.ts';

/**
 * Turns a recorded browser session (HAR 1.1 / 1.2 as Chrome, Firefox and WebPageTest write it)
 * into a scenario: the recorded URLs in order, and per host the latencies, body sizes and failure
 * shares that were observed. Pure: parsed JSON in, scenario input and notes out.
 */

export interface HarImportOptions {
  /** The HAR file, named in error messages and in the description. */
  file: string;
  /** Preferred scenario name (e.g. from the output file name); sanitised to [a-z0-9-]+. */
  name?: string;
}

export interface HarImport {
  /** A scenario as a file would hold it; it always passes `scenarioSchema`. */
  scenario: ScenarioInput;
  /** What was skipped, mapped or guessed, for the user to check. */
  notes: string[];
}

/** Used when no entry of a host tells its body size; the scenario schema's own default. */
export const DEFAULT_BODY_BYTES = 10_000;
export const DEFAULT_NAME = 'har-import';

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

type JsonObject = Record<string, unknown>;

/** Reads the parts of a HAR the importer needs, failing with the JSON path of what is wrong. */
class HarReader {
  constructor(private readonly file: string) {}

  fail(path: string, problem: string, fix: string): never {
    throw new InputError({ file: this.file, field: path, problem, fix });
  }

  object(value: unknown, path: string, fix: string): JsonObject {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, value === undefined ? 'is missing' : `must be an object, not ${describe(value)}`, fix);
    }
    return value as JsonObject;
  }

  /** A number that may be absent (undefined or null); any other type is refused. */
  optionalNumber(owner: JsonObject, key: string, path: string): number | undefined {
    const value = owner[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(`${path}.${key}`, `must be a number, not ${describe(value)}`, 'write -1 for a phase that does not apply, or remove the field');
    }
    return value;
  }

  optionalString(owner: JsonObject, key: string, path: string): string | undefined {
    const value = owner[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.fail(`${path}.${key}`, `must be a string, not ${describe(value)}`, 'export the HAR again');
    return value;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** One HAR entry reduced to what the scenario needs. */
interface RecordedEntry {
  index: number;
  url: URL;
  method: string;
  status: number;
  mimeType: string;
  latencyMs: number;
  usedEntryTime: boolean;
  bodyBytes: number | undefined;
  sizeFromWebPageTest: boolean;
  startedMs: number | undefined;
}

interface HostTally {
  requests: number;
  latenciesMs: number[];
  failedLatenciesMs: number[];
  bodyBytes: number[];
  serverErrors: number;
  failed: number;
  rateLimited: number;
  acceptedStartsMs: number[];
}

export function importHar(raw: unknown, options: HarImportOptions): HarImport {
  // Annotated so that TypeScript narrows after `reader.fail(...)`, which never returns.
  const reader: HarReader = new HarReader(options.file);
  const notes: string[] = [];
  const root = reader.object(raw, '(top level)', 'pass a HAR file: a JSON object with a "log" field');
  const log = reader.object(root.log, 'log', 'pass a HAR file exported from the browser network panel or WebPageTest');
  const version = typeof log.version === 'string' || typeof log.version === 'number' ? String(log.version) : '1.2';
  const rawEntries: unknown = log.entries;
  if (!Array.isArray(rawEntries)) {
    reader.fail(
      'log.entries',
      rawEntries === undefined ? 'is missing' : `must be an array, not ${describe(rawEntries)}`,
      'export the HAR again; the file may be truncated',
    );
  }
  const harEntries: readonly unknown[] = rawEntries;
  if (harEntries.length === 0) {
    reader.fail('log.entries', 'is empty', 'record the session again with the network panel open before the page loads');
  }

  const skippedSchemes = new Map<string, number>();
  const connectionsSeen = new Set<string>();
  const entries: RecordedEntry[] = [];
  harEntries.forEach((rawEntry, index) => {
    const entry = readEntry(reader, rawEntry, index, version, connectionsSeen);
    if (entry.url.protocol !== 'http:' && entry.url.protocol !== 'https:') {
      skippedSchemes.set(entry.url.protocol, (skippedSchemes.get(entry.url.protocol) ?? 0) + 1);
      return;
    }
    entries.push(entry);
  });
  for (const [scheme, count] of skippedSchemes) {
    notes.push(`skipped ${count} ${scheme} request${count === 1 ? '' : 's'}: only http and https requests are replayed`);
  }

  const { requests, tallies, parseKinds, hostNames } = collectRequests(entries, notes);
  if (requests.length === 0) {
    reader.fail('log.entries', 'holds no http or https request that can be replayed', 'record a session that fetches http(s) URLs');
  }
  if (requests.length > LIMITS.requests) {
    reader.fail(
      'log.entries',
      `holds ${requests.length} requests to replay, more than the ${LIMITS.requests} of one scenario`,
      'record a shorter session, or split the HAR',
    );
  }

  const hosts: Record<string, HostInput> = {};
  for (const [host, tally] of tallies) hosts[host] = hostSpec(host, tally, notes);
  notes.push(...methodNotes(entries, hostNames));
  const entriesUsingTime = entries.filter((e) => e.usedEntryTime).length;
  if (entriesUsingTime > 0) {
    notes.push(`${entriesUsingTime} entr${entriesUsingTime === 1 ? 'y has' : 'ies have'} no usable timings; their total "time" is used as latency`);
  }
  if (entries.some((e) => e.sizeFromWebPageTest)) {
    notes.push('body sizes come from WebPageTest\'s "_bytesIn" (headers included), because content.size is 0');
  }
  const pages = Array.isArray(log.pages) ? log.pages.length : 0;
  if (pages > 1) notes.push(`the HAR holds ${pages} page loads; the requests of all of them are replayed, in recorded order`);
  notes.push('capacity is not inferred from a recording; set hosts.<host>.capacity if a server serves only so many requests at once');

  const scenario: ScenarioInput = {
    name: scenarioName(options.name, log),
    description: describeSource(options.file, log, harEntries.length),
    seed: 1,
    requests,
    hosts,
    work: { parse: dominantParseKind(parseKinds) },
  };
  const checked = scenarioSchema.safeParse(scenario);
  if (!checked.success) {
    // Every value above is built to satisfy the schema; reaching this is a bug of the importer.
    throw new Error(`the imported scenario is invalid: ${checked.error.message}`);
  }
  return { scenario, notes };
}

/**
 * The scenario's requests in recorded order, and per scenario host the tally of what its
 * entries recorded. Hosts and URLs the scenario cannot hold are skipped with a note.
 */
function collectRequests(
  entries: readonly RecordedEntry[],
  notes: string[],
): {
  requests: Array<{ url: string }>;
  tallies: Map<string, HostTally>;
  parseKinds: Record<'html' | 'json' | 'none', number>;
  hostNames: Map<string, string | undefined>;
} {
  const hostNames = new Map<string, string | undefined>();
  const droppedPorts = new Map<string, Set<string>>();
  const tallies = new Map<string, HostTally>();
  const requests: Array<{ url: string }> = [];
  const parseKinds = { html: 0, json: 0, none: 0 };
  let unusableUrls = 0;
  for (const entry of entries) {
    const original = entry.url.hostname;
    if (!hostNames.has(original)) hostNames.set(original, scenarioHostName(original));
    const host = hostNames.get(original);
    if (host === undefined) continue;
    const url = new URL(entry.url.href);
    if (url.port !== '') {
      const ports = droppedPorts.get(host) ?? new Set<string>();
      ports.add(url.port);
      droppedPorts.set(host, ports);
      url.port = '';
    }
    url.hostname = host;
    // Credentials and fragments are never sent to the server; keep them out of the scenario.
    url.username = '';
    url.password = '';
    url.hash = '';
    const group = { url: url.href };
    if (!requestGroupSchema.safeParse(group).success || new URL(url.href).hostname !== host) {
      unusableUrls++;
      continue;
    }
    requests.push(group);
    parseKinds[parseKind(entry.mimeType)]++;
    const tally = tallies.get(host) ?? emptyTally();
    tallies.set(host, tally);
    countEntry(tally, entry);
  }

  for (const [original, host] of hostNames) {
    if (host === undefined) notes.push(`skipped the requests to "${original}": it cannot be written as a host name of the scenario`);
    else if (host !== original) notes.push(`host "${original}" is called "${host}" in the scenario (host names must match [a-z0-9.-])`);
  }
  for (const [host, ports] of droppedPorts) {
    notes.push(
      `dropped port${ports.size === 1 ? '' : 's'} ${[...ports].map((p) => `:${p}`).join(', ')} from the URLs of ${host}: a mocked host answers whatever the port`,
    );
  }
  if (unusableUrls > 0) notes.push(`skipped ${unusableUrls} request${unusableUrls === 1 ? '' : 's'} whose URL is not a valid http(s) URL`);
  return { requests, tallies, parseKinds, hostNames };
}

function readEntry(reader: HarReader, rawEntry: unknown, index: number, version: string, connectionsSeen: Set<string>): RecordedEntry {
  const path = `log.entries[${index}]`;
  const entry = reader.object(rawEntry, path, 'export the HAR again; the file may be truncated or edited by hand');
  const request = reader.object(entry.request, `${path}.request`, 'every entry needs a request with a url');
  const urlText = request.url;
  if (typeof urlText !== 'string' || urlText === '') {
    reader.fail(
      `${path}.request.url`,
      urlText === undefined ? 'is missing' : `must be a URL, not ${describe(urlText)}`,
      'every entry needs the URL it fetched',
    );
  }
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    reader.fail(`${path}.request.url`, `is not a URL: ${describe(urlText)}`, 'write an absolute URL such as https://news.example/page');
  }
  const method = reader.optionalString(request, 'method', `${path}.request`) ?? 'GET';
  const response = reader.object(entry.response, `${path}.response`, 'every entry needs a response (status 0 for a failed request)');
  const status = reader.optionalNumber(response, 'status', `${path}.response`);
  if (status === undefined) reader.fail(`${path}.response.status`, 'is missing', 'write the HTTP status, or 0 for a request that failed');
  const content =
    response.content === undefined || response.content === null ? {} : reader.object(response.content, `${path}.response.content`, 'export the HAR again');
  const mimeType = reader.optionalString(content, 'mimeType', `${path}.response.content`) ?? '';

  const timing = entryLatency(reader, entry, path, url.hostname, version, connectionsSeen);
  const latencyMs = roundMs(timing.latencyMs);
  if (!Number.isFinite(latencyMs)) {
    reader.fail(
      timing.usedEntryTime ? `${path}.time` : `${path}.timings`,
      'adds up to more time than a number can hold',
      'export the HAR again; the file looks corrupted',
    );
  }
  if (latencyMs > LIMITS.timeMs) {
    reader.fail(
      timing.usedEntryTime ? `${path}.time` : `${path}.timings`,
      `adds up to ${latencyMs} ms, longer than the ${LIMITS.timeMs} ms (Lambda's 900 s) a scenario's latency may be`,
      'remove that entry from the HAR',
    );
  }
  const size = bodySize(reader, entry, response, content, path);
  if (size.bytes !== undefined && size.bytes > LIMITS.bodyBytes) {
    reader.fail(
      `${path}.response`,
      `has a body of ${size.bytes} bytes, more than the ${LIMITS.bodyBytes} (16 MiB) a scenario's response may have`,
      'remove that entry from the HAR',
    );
  }
  const started = reader.optionalString(entry, 'startedDateTime', path);
  const startedMs = started === undefined ? undefined : Date.parse(started);
  return {
    index,
    url,
    method: method.toUpperCase(),
    status,
    mimeType: mimeType.toLowerCase(),
    latencyMs,
    usedEntryTime: timing.usedEntryTime,
    bodyBytes: size.bytes,
    sizeFromWebPageTest: size.fromWebPageTest,
    startedMs: startedMs !== undefined && Number.isFinite(startedMs) ? startedMs : undefined,
  };
}

/**
 * What the server took for this request: waiting for the first byte plus receiving the body,
 * plus setting up the connection the first time that connection is used. DNS, blocking and
 * sending are the client's time, not the server's.
 */
function entryLatency(
  reader: HarReader,
  entry: JsonObject,
  path: string,
  hostname: string,
  version: string,
  connectionsSeen: Set<string>,
): { latencyMs: number; usedEntryTime: boolean } {
  const time = reader.optionalNumber(entry, 'time', path);
  const timings = entry.timings === undefined || entry.timings === null ? undefined : reader.object(entry.timings, `${path}.timings`, 'export the HAR again');
  if (timings !== undefined) {
    const phase = (key: string): number | undefined => {
      const value = reader.optionalNumber(timings, key, `${path}.timings`);
      // -1 (and any negative value) means the phase does not apply to this request.
      return value === undefined || value < 0 ? undefined : value;
    };
    const wait = phase('wait');
    const receive = phase('receive');
    const connect = phase('connect') ?? 0;
    const ssl = phase('ssl') ?? 0;
    const connectionId = connectionKey(reader, entry, path, hostname);
    let isNewConnection = connect > 0 || ssl > 0;
    if (connectionId !== undefined) {
      // Requests that waited for the same connection all report its set-up time: count it once.
      isNewConnection = !connectionsSeen.has(connectionId);
      connectionsSeen.add(connectionId);
    }
    if (wait !== undefined || receive !== undefined) {
      const setup = isNewConnection ? connectionSetupMs(connect, ssl, version) : 0;
      return { latencyMs: (wait ?? 0) + (receive ?? 0) + setup, usedEntryTime: false };
    }
  }
  if (time === undefined) {
    const problem = timings === undefined ? 'is missing, and so is the entry\'s "time"' : 'has neither "wait" nor "receive", and the entry has no "time"';
    reader.fail(`${path}.timings`, problem, 'export the HAR again with timings, or give the entry a "time" in ms');
  }
  return { latencyMs: Math.max(0, time), usedEntryTime: true };
}

/**
 * HAR 1.2 counts the TLS handshake inside `connect`. HAR 1.1 had no `ssl` field; WebPageTest
 * writes one and still counts it inside `connect`, which shows as connect >= ssl. Only when
 * `ssl` exceeds `connect` in a pre-1.2 file can they be separate, and then they add up.
 */
export function connectionSetupMs(connect: number, ssl: number, version: string): number {
  if (connect >= ssl || isAtLeastVersion12(version)) return Math.max(connect, ssl);
  return connect + ssl;
}

function isAtLeastVersion12(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 2);
}

/** A connection id scoped to its host: Firefox writes the server port there, not a connection. */
function connectionKey(reader: HarReader, entry: JsonObject, path: string, hostname: string): string | undefined {
  const value = entry.connection;
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    reader.fail(`${path}.connection`, `must be a string, not ${describe(value)}`, 'export the HAR again, or remove the field');
  }
  return `${hostname} ${String(value)}`;
}

function bodySize(
  reader: HarReader,
  entry: JsonObject,
  response: JsonObject,
  content: JsonObject,
  path: string,
): { bytes: number | undefined; fromWebPageTest: boolean } {
  const contentSize = reader.optionalNumber(content, 'size', `${path}.response.content`);
  const transferred = reader.optionalNumber(response, 'bodySize', `${path}.response`);
  if (contentSize !== undefined && contentSize > 0) return { bytes: Math.round(contentSize), fromWebPageTest: false };
  if (transferred !== undefined && transferred > 0) return { bytes: Math.round(transferred), fromWebPageTest: false };
  // WebPageTest 1.1 exports write 0 for every size and keep the bytes received in "_bytesIn".
  // It includes the headers, but they are compressed on HTTP/2 and SPDY so headersSize cannot
  // be subtracted; a few hundred bytes too many is closer than 0.
  const bytesIn = typeof entry._bytesIn === 'number' || typeof entry._bytesIn === 'string' ? Number(entry._bytesIn) : Number.NaN;
  if (Number.isFinite(bytesIn) && bytesIn > 0) return { bytes: Math.round(bytesIn), fromWebPageTest: true };
  if (contentSize === 0 || transferred === 0) return { bytes: 0, fromWebPageTest: false };
  return { bytes: undefined, fromWebPageTest: false };
}

function emptyTally(): HostTally {
  return { requests: 0, latenciesMs: [], failedLatenciesMs: [], bodyBytes: [], serverErrors: 0, failed: 0, rateLimited: 0, acceptedStartsMs: [] };
}

function countEntry(tally: HostTally, entry: RecordedEntry): void {
  tally.requests++;
  if (entry.status === 0) {
    // A request the browser gave up on (or whose connection broke): its timings are not a
    // server's answer, so it counts as a reset and not as a latency sample.
    tally.failed++;
    tally.failedLatenciesMs.push(entry.latencyMs);
    return;
  }
  if (entry.status === 429) {
    // The mock answers over-limit requests at once from its rate limit, not from latencyMs.
    tally.rateLimited++;
    return;
  }
  tally.latenciesMs.push(entry.latencyMs);
  if (entry.startedMs !== undefined) tally.acceptedStartsMs.push(entry.startedMs);
  if (entry.status >= 500 && entry.status <= 599) {
    tally.serverErrors++;
    return;
  }
  if (entry.bodyBytes !== undefined) tally.bodyBytes.push(entry.bodyBytes);
}

type HostInput = ScenarioInput['hosts'][string];

function hostSpec(host: string, tally: HostTally, notes: string[]): HostInput {
  let samples = tally.latenciesMs;
  if (samples.length === 0) {
    samples = tally.failedLatenciesMs.length > 0 ? tally.failedLatenciesMs : [0];
    notes.push(`${host}: no request was answered; latency is taken from the failed requests' timings`);
  }
  let bodyBytes: Distribution = { dist: 'empirical', samples: tally.bodyBytes };
  if (tally.bodyBytes.length === 0) {
    bodyBytes = { dist: 'fixed', value: DEFAULT_BODY_BYTES };
    notes.push(`${host}: no body size recorded; assuming ${DEFAULT_BODY_BYTES} bytes`);
  }
  const spec: HostInput = {
    latencyMs: { dist: 'empirical', samples },
    bodyBytes,
    errorRate: tally.serverErrors / tally.requests,
    resetRate: tally.failed / tally.requests,
  };
  if (tally.rateLimited > 0) {
    const share = `${tally.rateLimited} of ${tally.requests} requests to ${host} got 429`;
    const rps = acceptedRate(tally.acceptedStartsMs);
    if (rps === undefined) {
      notes.push(`${share}; the recording is too short or too sparse to infer a rate limit; set hosts.${host}.rateLimit.rps yourself`);
    } else {
      spec.rateLimit = { rps };
      notes.push(`${share}; rateLimit.rps ${rps} is the rate the server accepted while recording, check it against the API's documented limit`);
    }
  }
  return spec;
}

/** Requests per second the host accepted, when the recording spans long enough to say. */
function acceptedRate(startsMs: readonly number[]): number | undefined {
  if (startsMs.length < 2) return undefined;
  const first = startsMs.reduce((a, b) => Math.min(a, b));
  const last = startsMs.reduce((a, b) => Math.max(a, b));
  const spanS = (last - first) / 1000;
  if (spanS < 1) return undefined;
  const rps = Math.round((startsMs.length / spanS) * 100) / 100;
  // Below 0.01 rps the recording is too sparse to say anything about a limit.
  return rps > 0 ? rps : undefined;
}

function methodNotes(entries: readonly RecordedEntry[], hostNames: ReadonlyMap<string, string | undefined>): string[] {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    if (entry.method === 'GET' || hostNames.get(entry.url.hostname) === undefined) continue;
    counts.set(entry.method, (counts.get(entry.method) ?? 0) + 1);
  }
  if (counts.size === 0) return [];
  const list = [...counts].map(([method, count]) => `${count} ${method}`).join(', ');
  return [`${list} request${[...counts.values()].reduce((a, b) => a + b, 0) === 1 ? ' is' : 's are'} replayed as GET: the scenario fetches URLs`];
}

/**
 * The name a scenario host gets: the URL's host name when the schema allows it, a name made
 * from it otherwise (IPv6 literals, underscores, a trailing dot), or undefined when nothing
 * usable is left.
 */
export function scenarioHostName(hostname: string): string | undefined {
  const lower = hostname.toLowerCase();
  if (HOST_NAME.test(lower)) return lower;
  if (lower.startsWith('[') && lower.endsWith(']')) {
    const label = `ipv6-${lower.slice(1, -1).replace(/[^0-9a-f]/g, '-')}`;
    const host = `${label.endsWith('-') ? `${label}0` : label}.example`;
    return HOST_NAME.test(host) ? host : undefined;
  }
  const host = lower
    .split('.')
    .map((label) => label.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter((label) => label !== '')
    .join('.');
  return host !== '' && HOST_NAME.test(host) ? host : undefined;
}

export function parseKind(mimeType: string): 'html' | 'json' | 'none' {
  if (/\b(x?html)\b/.test(mimeType)) return 'html';
  if (/\bjson\b|\+json\b/.test(mimeType)) return 'json';
  return 'none';
}

function dominantParseKind(counts: Record<'html' | 'json' | 'none', number>): 'html' | 'json' | 'none' {
  // Ties go to the kind that costs CPU, so a tie never hides parse work.
  const order = ['html', 'json', 'none'] as const;
  return order.reduce((best, kind) => (counts[kind] > counts[best] ? kind : best), order[0]);
}

/** [a-z0-9-]+ from free text; undefined when nothing is left. */
export function sanitiseName(text: string): string | undefined {
  const name = text
    .toLowerCase()
    .replace(/https?:\/\//g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/g, '');
  return name === '' ? undefined : name;
}

function scenarioName(preferred: string | undefined, log: JsonObject): string {
  const fromOption = preferred === undefined ? undefined : sanitiseName(preferred);
  if (fromOption !== undefined) return fromOption;
  const pages = Array.isArray(log.pages) ? (log.pages as unknown[]) : [];
  for (const page of pages) {
    if (page && typeof page === 'object' && 'title' in page && typeof page.title === 'string') {
      const fromTitle = sanitiseName(page.title);
      if (fromTitle !== undefined) return fromTitle;
    }
  }
  return DEFAULT_NAME;
}

function describeSource(file: string, log: JsonObject, entryCount: number): string {
  const creator = log.creator && typeof log.creator === 'object' ? (log.creator as JsonObject) : {};
  const tool = [creator.name, creator.version].filter((part) => typeof part === 'string' && part !== '').join(' ');
  const base = file.split(/[\\/]/).pop() ?? file;
  return `Imported from ${base}${tool ? ` (${tool})` : ''}: ${entryCount} recorded entr${entryCount === 1 ? 'y' : 'ies'}`;
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export interface ImportedHostSummary {
  host: string;
  requests: number;
  latencyMedianMs: number;
  bodyMedianBytes: number;
  errorRate: number;
  resetRate: number;
}

/** Per host, in the order hosts appear: what the user checks before sweeping. */
export function summariseHosts(scenario: ScenarioInput): ImportedHostSummary[] {
  const requestsByHost = new Map<string, number>();
  for (const group of scenario.requests) {
    const host = 'url' in group ? new URL(group.url).hostname : group.host;
    requestsByHost.set(host, (requestsByHost.get(host) ?? 0) + ('url' in group ? 1 : group.count));
  }
  return Object.entries(scenario.hosts).map(([host, spec]) => ({
    host,
    requests: requestsByHost.get(host) ?? 0,
    latencyMedianMs: median(spec.latencyMs),
    bodyMedianBytes: median(spec.bodyBytes ?? { dist: 'fixed', value: DEFAULT_BODY_BYTES }),
    errorRate: spec.errorRate ?? 0,
    resetRate: spec.resetRate ?? 0,
  }));
}
