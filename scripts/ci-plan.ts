import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { newCommand, runCli } from '../harness/cli.ts';
import { InputError } from '../harness/errors.ts';
import { planComparison, planOutputs, type BaseTool } from '../harness/ci/plan.ts';

await runCli(() => {
  const program = newCommand('ci-plan')
    .description(
      "Decide how CI compares a pull request: whether the base can be swept, and a copy of the head's scenario file in\n" +
        "the base's tree, which both sides sweep. Prints key=value lines (base, head-scenario, base-scenario).",
    )
    .requiredOption('--base <dir>', "the base's checkout")
    .option('--head <dir>', "the head's checkout", '.')
    .requiredOption('--scenario <file>', 'the scenario file, relative to the root of each checkout')
    .option('--tool <who>', "who sweeps the base: 'base' (its own fanout-tuner) or 'shared' (this one)", 'base')
    .option('--notes <file>', 'write the notes for the job summary here (Markdown)')
    .option('--github-output <file>', 'also append the key=value lines to this file ($GITHUB_OUTPUT)')
    .parse();
  const options = program.opts<{ base: string; head: string; scenario: string; tool: string; notes?: string; githubOutput?: string }>();
  if (options.tool !== 'base' && options.tool !== 'shared') {
    throw new InputError({ field: '--tool', problem: `"${options.tool}" is neither base nor shared`, fix: 'pass --tool base or --tool shared' });
  }
  const plan = planComparison({ baseDir: options.base, headDir: options.head, scenario: options.scenario, tool: options.tool as BaseTool });
  const outputs = planOutputs(plan);
  process.stdout.write(outputs);
  if (options.githubOutput) appendFileSync(options.githubOutput, outputs);
  if (options.notes) {
    mkdirSync(dirname(options.notes), { recursive: true });
    writeFileSync(options.notes, plan.notes.map((note) => `${note}\n\n`).join(''));
  }
});
