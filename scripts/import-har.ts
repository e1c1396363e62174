import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newCommand, runCli } from '../harness/cli.ts';
import { InputError } from '../harness/errors.ts';
import { writeJsonAtomic } from '../harness/results/io.ts';
import { importHar, summariseHosts } from '../harness/scenario/har.ts';
import { readJsonFile } from '../harness/scenario/load.ts';

const SCHEMA_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'schema', 'scenario.schema.json');

interface Options {
  out: string;
  name?: string;
  force?: boolean;
}

await runCli(() => {
  const program = newCommand('import-har')
    .description('Turn a recorded browser session (HAR) into a scenario: its URLs in order, and per host the latencies, body sizes and failures it recorded.')
    .argument('<file>', 'HAR file exported by Chrome, Firefox or WebPageTest')
    .requiredOption('--out <file>', 'scenario file to write, e.g. scenarios/my-site.json')
    .option('--name <name>', 'scenario name, [a-z0-9-]+ (default: from the --out file name)')
    .option('--force', 'overwrite --out if it exists')
    .parse(process.argv);
  const [harFile] = program.args as [string];
  const options = program.opts<Options>();

  if (options.name !== undefined && !/^[a-z0-9-]+$/.test(options.name)) {
    throw new InputError({ field: '--name', problem: `"${options.name}" is not a scenario name`, fix: 'use lower-case letters, digits and dashes only' });
  }
  if (existsSync(options.out)) {
    if (statSync(options.out).isDirectory()) {
      throw new InputError({ file: options.out, field: '--out', problem: 'is a directory', fix: 'give the scenario file to write, e.g. scenarios/my-site.json' });
    }
    if (!options.force) {
      throw new InputError({ file: options.out, field: '--out', problem: 'already exists', fix: 'pass --force to overwrite it, or choose another --out' });
    }
  }

  const { scenario, notes } = importHar(readJsonFile(harFile, 'HAR file'), {
    file: harFile,
    name: options.name ?? basename(options.out, extname(options.out)),
  });
  const schemaPath = relative(dirname(resolve(options.out)), SCHEMA_FILE).split(sep).join('/');
  writeJsonAtomic(options.out, { $schema: schemaPath, ...scenario });

  const hosts = summariseHosts(scenario);
  const lines = [`Wrote ${options.out}: scenario "${scenario.name}", ${scenario.requests.length} requests to ${hosts.length} host${hosts.length === 1 ? '' : 's'}, parse ${scenario.work?.parse ?? 'html'}`];
  const width = Math.max(...hosts.map((h) => h.host.length));
  for (const h of hosts) {
    const faults = [h.errorRate > 0 ? `5xx ${percent(h.errorRate)}` : '', h.resetRate > 0 ? `failed ${percent(h.resetRate)}` : ''].filter(Boolean).join(', ');
    lines.push(`  ${h.host.padEnd(width)}  ${String(h.requests).padStart(5)} requests  latency median ${h.latencyMedianMs.toFixed(1)} ms  body median ${Math.round(h.bodyMedianBytes)} B${faults ? `  ${faults}` : ''}`);
  }
  if (notes.length > 0) lines.push('Notes:', ...notes.map((note) => `  - ${note}`));
  lines.push(`Next: npm run sweep -- ${options.out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
});

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
