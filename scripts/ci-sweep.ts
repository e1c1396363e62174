import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { newCommand, runCli } from '../harness/cli.ts';
import { EXIT } from '../harness/errors.ts';
import { escapeMarkdown } from '../harness/report/escape.ts';

/**
 * Sweeps the base in CI with the base's own fanout-tuner, on the head's scenario file (see
 * `npm run ci-plan`). When the base's tool refuses that file as bad input (exit 2: the pull request
 * adds a scenario field the base does not know), it sweeps the base's own version of the file
 * instead and writes a note saying so: the comparison then runs with --allow-scenario-change.
 */
await runCli(() => {
  const program = newCommand('ci-sweep')
    .description("Run the base's `npm run sweep` on the head's scenario file, or on its own when it cannot read the head's (exit 2).")
    .requiredOption('--dir <dir>', "the base's checkout, where `npm run sweep` runs")
    .requiredOption('--scenario <file>', "the copy of the head's scenario file (from npm run ci-plan)")
    .requiredOption('--fallback-scenario <file>', "the base's own scenario file, relative to --dir")
    .requiredOption('--notes <file>', 'where to write the note when the fallback was used (Markdown)')
    .argument('[sweepArgs...]', 'the rest of the sweep command line, after --')
    .parse();
  const options = program.opts<{ dir: string; scenario: string; fallbackScenario: string; notes: string }>();
  const sweepArgs = program.args;
  const sweep = (scenario: string): number => {
    const run = spawnSync('npm', ['run', '--silent', 'sweep', '--', scenario, ...sweepArgs], { cwd: options.dir, stdio: 'inherit' });
    return run.status ?? EXIT.failed;
  };
  const status = sweep(resolve(options.scenario));
  if (status !== EXIT.badInput || !existsSync(resolve(options.dir, options.fallbackScenario))) return status;
  mkdirSync(dirname(options.notes), { recursive: true });
  writeFileSync(
    options.notes,
    `The base's fanout-tuner cannot read the head's ${escapeMarkdown(options.fallbackScenario)} (bad input, likely a field this pull request adds), ` +
      'so the base was swept with its own version of the file: part of any difference may come from the scenario.\n\n',
  );
  return sweep(options.fallbackScenario);
});
