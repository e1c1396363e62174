import { basename, extname } from 'node:path';
import { newCommand, runCli } from '../harness/cli.ts';
import { importHar } from '../harness/scenario/har.ts';
import { checkScenarioName, checkScenarioOut, importSummary, writeScenarioFile } from '../harness/scenario/import-output.ts';
import { readJsonFile } from '../harness/scenario/load.ts';

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

  checkScenarioName(options.name);
  checkScenarioOut(options.out, options.force, '--out');

  const { scenario, notes } = importHar(readJsonFile(harFile, 'HAR file'), {
    file: harFile,
    name: options.name ?? basename(options.out, extname(options.out)),
  });
  writeScenarioFile(options.out, scenario);

  process.stdout.write(importSummary(options.out, scenario, notes));
});
