import { z } from 'zod';
import { LIMITS } from './limits.ts';

/**
 * The scenario contract (docs/contracts.md, docs/scenarios.md). Objects are strict so that a misspelt field is refused
 * instead of silently ignored; `schema/scenario.schema.json` is generated from this file.
 */

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

export { LIMITS };

/** A bounded quantity whose message names the bound, and why. */
function atMost(schema: z.ZodNumber, max: number, what: string): z.ZodNumber {
  return schema.max(max, `must be at most ${max.toLocaleString('en-US')} (${what})`);
}

const TIME_LIMIT_TEXT = "Lambda's 900 s limit, in ms";

/** Distributions of non-negative values, each parameter at most `max`; draws are capped at it too (plan.ts). */
function boundedDistribution(max: number, what: string) {
  const value = atMost(nonNegative, max, what);
  const positiveValue = atMost(positive, max, what);
  return z
    .discriminatedUnion('dist', [
      z.object({ dist: z.literal('fixed'), value }).strict(),
      z
        .object({ dist: z.literal('uniform'), min: value, max: value })
        .strict()
        .refine((d) => d.max >= d.min, { message: 'max must be at least min', path: ['max'] }),
      z.object({ dist: z.literal('normal'), mean: value, sd: value }).strict(),
      z
        .object({ dist: z.literal('lognormal'), median: positiveValue, p99: positiveValue })
        .strict()
        .refine((d) => d.p99 > d.median, { message: 'p99 must be greater than median', path: ['p99'] }),
      z.object({ dist: z.literal('empirical'), samples: z.array(value).min(1).max(LIMITS.samples) }).strict(),
    ])
    .describe('A distribution of non-negative values: fixed, uniform, normal, lognormal (median + p99) or empirical');
}

/** Times in ms: latencies of hosts and the database. */
export const distributionSchema = boundedDistribution(LIMITS.timeMs, TIME_LIMIT_TEXT);
const bodySizeSchema = boundedDistribution(LIMITS.bodyBytes, '16 MiB per response body');

export type Distribution = z.infer<typeof distributionSchema>;

const probability = z.number().min(0).max(1);

export const hostSchema = z
  .object({
    latencyMs: distributionSchema.describe('Time the server takes to answer one request once it starts serving it'),
    bodyBytes: bodySizeSchema.default({ dist: 'fixed', value: 10_000 }).describe('Size of the response body'),
    capacity: atMost(z.number().int().positive(), LIMITS.count, 'requests served at once')
      .optional()
      .describe('Requests served at once; more wait in the server FIFO queue. Omit for unlimited'),
    rateLimit: z
      .object({
        rps: atMost(
          z.number().min(LIMITS.rps.min, `must be at least ${LIMITS.rps.min} (one request per 1000 s)`),
          LIMITS.rps.max,
          'requests per second',
        ).describe('Token refill rate, requests per second'),
        burst: atMost(z.number().int().positive(), LIMITS.rps.max, 'requests in a burst').optional().describe('Bucket size; defaults to max(1, rps)'),
        retryAfter: z
          .enum(['ms', 'seconds'])
          .default('ms')
          .describe('"seconds": only the standard whole-second Retry-After header, as most APIs send; "ms": also retry-after-ms'),
      })
      .strict()
      .optional()
      .describe('Token bucket; requests over it get 429 with Retry-After'),
    errorRate: probability.default(0).describe('Share of requests answered with a 5xx'),
    timeoutRate: probability.default(0).describe('Share of requests never answered until the client gives up'),
    resetRate: probability.default(0).describe('Share of requests whose connection is reset'),
    // Optional without defaults, so that scenarios written before them keep their hash.
    keepAlive: z
      .boolean()
      .optional()
      .describe(
        'Whether the server keeps a connection open for the next request (default true); false closes it after every answer, so every attempt opens a new connection',
      ),
    maxConnections: z
      .number()
      .int()
      .positive()
      .max(100_000)
      .optional()
      .describe(
        'Connections the server holds open at once (default unlimited); a new connection past it waits until one closes, and idle ones are closed to make room',
      ),
    rttMs: nonNegative
      .max(60_000)
      .optional()
      .describe('Network round trip to the host (default 0): a new connection waits one for TCP, and one more for TLS on https, before its request is sent'),
  })
  .strict()
  .refine((h) => h.errorRate + h.timeoutRate + h.resetRate <= 1, {
    message: 'errorRate + timeoutRate + resetRate must not exceed 1',
    path: ['errorRate'],
  });

export type HostSpec = z.infer<typeof hostSchema>;

const hostName = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a lower-case host name such as news.example');

export const requestGroupSchema = z.union([
  z
    .object({
      host: hostName,
      count: atMost(z.number().int().positive(), LIMITS.requests, 'requests of one invocation'),
      path: z.string().startsWith('/').optional().describe('Path prefix; the request index is appended'),
    })
    .strict(),
  z.object({ url: z.url({ protocol: /^https?$/ }) }).strict(),
]);

export type RequestGroup = z.infer<typeof requestGroupSchema>;

const poolSize = atMost(z.number().int().positive(), LIMITS.poolSize, 'database connections')
  .default(5)
  .describe('Connections the job holds to the database; a batch waits for a free one (FIFO)');
const batchSize = atMost(z.number().int().positive(), LIMITS.count, 'rows per write')
  .default(1)
  .describe('Rows per write: the worker whose row fills the buffer writes the batch and waits for it');
const tableName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL name such as fanout_rows')
  .default('fanout_rows')
  .describe('Table the rows go to (url, title, links, written_at); created if missing');

export const sinkSchema = z
  .discriminatedUnion(
    'kind',
    [
      z
        .object({
          kind: z.literal('model').default('model').describe('An RDS-like database as a latency model, in process'),
          latencyMs: distributionSchema.default({ dist: 'fixed', value: 5 }).describe('Time one batch write holds its connection'),
          poolSize,
          batchSize,
        })
        .strict(),
      z
        .object({
          kind: z.literal('postgres').describe('A real PostgreSQL server, written with pg (multi-row INSERT per batch)'),
          url: z
            .string()
            .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|postgres(ql)?:\/\/.+)$/, 'must be env:NAME (a variable holding the connection string) or a postgres:// URL')
            .describe('Connection string, best as env:NAME so no password lands in the scenario or the results (which copy the scenario)'),
          table: tableName,
          poolSize,
          batchSize,
          endpoint: z
            .string()
            .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?:\d{1,5}$/, 'must be host:port, such as db.example:5432')
            .optional()
            .describe(
              "A deployed function: where its own database client connects (host:port, as its environment says); the sweep serves the real server there, inside the cell's network namespace",
            ),
          roundTripMs: distributionSchema
            .optional()
            .describe('A deployed function: latency added to every round trip to the database, as an RDS instance a few milliseconds away adds it'),
        })
        .strict(),
      z
        .object({
          kind: z.literal('pglite').describe('An embedded PostgreSQL (PGlite) in the cell process, for those with no server'),
          dataDir: z
            .string()
            .min(1)
            .optional()
            .describe('Directory of the database, relative to the scenario file; omit for an in-memory database discarded with the cell'),
          table: tableName,
          poolSize,
          batchSize,
        })
        .strict(),
    ],
    { error: (issue) => (issue.code === 'invalid_union' ? 'must be "model", "postgres" or "pglite"' : undefined) },
  )
  .describe('Where the job writes its rows: "model" (default), "postgres" or "pglite"');

export type SinkSpec = z.infer<typeof sinkSchema>;

export const moduleWorkloadSchema = z
  .object({
    module: z.string().min(1).describe('Path of your handler module (.ts, .js, .mjs), relative to the scenario file'),
    export: z
      .string()
      .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'must be the name of an export such as handler or default')
      .default('handler')
      .describe('The exported function to call; see harness/workload/handler.ts for its contract'),
  })
  .strict()
  .describe('Your own handler, run instead of the built-in scraper: called with { urls, concurrency, sink } per invocation, MAX_WORKERS set');

/** Lambda runtimes a function workload may name: Python 3, Node.js 18/20/22, or a custom runtime's ./bootstrap. */
export const FUNCTION_RUNTIME_PATTERN = /^(python3\.\d+|nodejs(18|20|22)\.x|provided\.al2|provided\.al2023)$/;
export const FUNCTION_RUNTIMES_TEXT = 'python3.x, nodejs18.x, nodejs20.x, nodejs22.x, provided.al2023 or provided.al2';

const environmentName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as MAX_WORKERS');
const environmentSchema = z.record(environmentName, z.string()).describe('Environment variables of the function, as strings (Lambda passes only strings)');
const eventSchema = z
  .union([z.record(z.string(), z.unknown()), z.string().min(1)])
  .describe('The invocation payload: a JSON object, or the path of a JSON file relative to the scenario file; default {}');
const concurrencyVariableSchema = environmentName.describe(
  'The environment variable the function reads its concurrency from; default the first of MAX_WORKERS, CONCURRENCY, WORKERS, MAX_CONCURRENCY in its environment',
);
const pythonSchema = z
  .string()
  .min(1)
  .describe('Python interpreter: a path relative to the scenario file (such as ./.venv/bin/python) or a command on PATH; default python3.x of the runtime');

export const inlineFunctionWorkloadSchema = z
  .object({
    function: z
      .object({
        runtime: z.string().regex(FUNCTION_RUNTIME_PATTERN, `must be ${FUNCTION_RUNTIMES_TEXT}`).describe(`The Lambda runtime: ${FUNCTION_RUNTIMES_TEXT}`),
        handler: z.string().min(1).describe('The handler as Lambda reads it: module path relative to codeUri, a dot, the function (app.lambda_handler)'),
        codeUri: z.string().min(1).describe('The directory of the function code, relative to the scenario file'),
        event: eventSchema.optional(),
        environment: environmentSchema.optional(),
        concurrencyVariable: concurrencyVariableSchema.optional(),
        python: pythonSchema.optional(),
      })
      .strict(),
  })
  .strict()
  .describe('A Lambda function (Python, Node.js or a custom runtime) run unchanged with the event you give it');

export const templateWorkloadSchema = z
  .object({
    template: z
      .string({ error: 'must be the path of the SAM/CloudFormation template or serverless.yml, relative to the scenario file' })
      .min(1)
      .describe('SAM/CloudFormation template (YAML) or serverless.yml that deploys the function, relative to the scenario file'),
    function: z
      .string({ error: 'must name the function in the template: its logical ID, FunctionName or serverless key' })
      .min(1)
      .describe('The function in it: logical ID (SAM/CloudFormation), FunctionName, or key under functions (serverless.yml)'),
    event: eventSchema.optional(),
    environment: environmentSchema
      .optional()
      .describe("Variables set on top of the template's (key by key): the values of variables the template computes (!Ref, !Sub, ${ssm:...})"),
    concurrencyVariable: concurrencyVariableSchema.optional(),
    python: pythonSchema.optional(),
  })
  .strict()
  .describe('The function as deployed: runtime, handler, code, memory size and environment read from its template');

export const WORKLOAD_FORMS_TEXT =
  'must be one of { "module": "./handler.ts" }, { "function": { "runtime", "handler", "codeUri", ... } } or { "template": "./template.yaml", "function": "LogicalId" }';

export const workloadSchema = z
  .union([moduleWorkloadSchema, inlineFunctionWorkloadSchema, templateWorkloadSchema], {
    error: (issue) => (issue.code === 'invalid_union' ? WORKLOAD_FORMS_TEXT : undefined),
  })
  .describe('The job to run instead of the built-in scraper: your own handler module, a Lambda function, or a function from its template');

export type ModuleWorkload = z.output<typeof moduleWorkloadSchema>;
export type InlineFunctionWorkload = z.output<typeof inlineFunctionWorkloadSchema>;
export type TemplateWorkload = z.output<typeof templateWorkloadSchema>;
export type Workload = z.output<typeof workloadSchema>;

/** The three forms' keys, in the order of the union: which form an object meant, by its keys. */
export function workloadFormIndex(input: unknown): 0 | 1 | 2 | undefined {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return undefined;
  if ('template' in input) return 2;
  if ('module' in input) return 0;
  if ('function' in input) {
    const fn = (input as { function: unknown }).function;
    return typeof fn === 'string' ? 2 : 1;
  }
  return undefined;
}

const memoryMb = z.number().int().min(128).max(10_240);

export const scenarioSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9-]+$/, 'must match [a-z0-9-]+ (it names output files)'),
    description: z.string().default(''),
    seed: z.number().int().nonnegative(),
    requests: z
      .array(requestGroupSchema)
      .min(1)
      .max(LIMITS.requests, `must hold at most ${LIMITS.requests.toLocaleString('en-US')} entries`),
    hosts: z.record(hostName, hostSchema),
    work: z
      .object({
        parse: z.enum(['html', 'json', 'none']).default('html'),
        threads: atMost(z.number().int().nonnegative(), LIMITS.threads, 'worker threads')
          .default(0)
          .describe('Parse on a worker pool of this size; 0 parses on the main thread'),
      })
      .strict()
      .default({ parse: 'html', threads: 0 }),
    workload: workloadSchema.optional(),
    sink: sinkSchema.default({ kind: 'model', latencyMs: { dist: 'fixed', value: 5 }, poolSize: 5, batchSize: 1 }),
    client: z
      .object({
        timeoutMs: atMost(positive, LIMITS.timeMs, TIME_LIMIT_TEXT).default(10_000),
        retries: atMost(z.number().int().nonnegative(), LIMITS.retries, 'retries of one request').default(1),
        backoffMs: atMost(nonNegative, LIMITS.timeMs, TIME_LIMIT_TEXT)
          .default(100)
          .describe('First retry delay; doubles on each retry unless Retry-After says otherwise'),
        library: z
          .enum(['fetch', 'undici'])
          .default('fetch')
          .describe(
            'HTTP client of the built-in job: "fetch" (global fetch, served by the msw backend, which also intercepts node:http clients) or "undici" (undici.request, served by the undici backend at a fraction of the CPU per request)',
          ),
      })
      .strict()
      .default({ timeoutMs: 10_000, retries: 1, backoffMs: 100, library: 'fetch' }),
    lambda: z
      .object({
        architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
        region: z.string().default('us-east-1'),
        invocationsPerMonth: atMost(z.number().int().nonnegative(), LIMITS.invocationsPerMonth, 'invocations a month').default(8_640),
        timeoutS: z.number().int().min(1).max(900).default(900).describe('The function timeout; a cell slower than it is infeasible'),
      })
      .strict()
      .default({ architecture: 'x86_64', region: 'us-east-1', invocationsPerMonth: 8_640, timeoutS: 900 }),
    sweep: z
      .object({
        concurrency: z
          .array(z.number().int().positive().max(10_000))
          .min(1)
          .max(LIMITS.gridValues, `must list at most ${LIMITS.gridValues} concurrencies`)
          .default([1, 2, 4, 8, 16, 32, 64]),
        memoryMb: z.array(memoryMb).min(1).max(LIMITS.gridValues, `must list at most ${LIMITS.gridValues} memory sizes`).default([1769]),
        reps: atMost(z.number().int().positive(), LIMITS.reps, 'timed repetitions per cell').default(3),
        timeScale: atMost(z.number().min(1), LIMITS.timeScale, 'how many times shorter latencies run')
          .default(1)
          .describe('Run every latency this many times shorter and scale durations back'),
      })
      .strict()
      .default({ concurrency: [1, 2, 4, 8, 16, 32, 64], memoryMb: [1769], reps: 3, timeScale: 1 }),
  })
  .strict()
  .superRefine((s, ctx) => {
    const requests = s.requests.reduce((sum, group) => sum + ('count' in group ? group.count : 1), 0);
    // A group past the bound on its own is already refused by name.
    if (requests > LIMITS.requests && s.requests.every((group) => !('count' in group) || group.count <= LIMITS.requests)) {
      ctx.addIssue({
        code: 'custom',
        path: ['requests'],
        message: `must add up to at most ${LIMITS.requests.toLocaleString('en-US')} requests of one invocation (they add up to ${requests.toLocaleString('en-US')})`,
      });
    }
    s.requests.forEach((group, i) => {
      // Refinements still run after a continuable issue such as a malformed URL: that one is
      // already reported, and `new URL` would throw on it.
      if (!('host' in group) && !URL.canParse(group.url)) return;
      const host = 'host' in group ? group.host : new URL(group.url).hostname;
      // Own keys only: "constructor" is a valid host name and inherited by every object.
      if (!Object.hasOwn(s.hosts, host)) {
        ctx.addIssue({
          code: 'custom',
          path: ['requests', i, 'host' in group ? 'host' : 'url'],
          message: `host "${host}" is not defined under "hosts"; add it there`,
        });
      }
    });
  });

/** A scenario as the file says it (defaults not yet filled). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario with every default filled in: what the harness runs. */
export type Scenario = z.output<typeof scenarioSchema>;
