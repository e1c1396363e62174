import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { escapeMarkdown } from '../report/escape.ts';

/**
 * What a pull request's comparison can do, decided before anything is swept (the CI workflow and
 * the composite action call it through `npm run ci-plan`):
 * - whether the base can be swept at all: the pull request that sets fanout-tuner up has a base
 *   without it, and then passes with a note instead of failing;
 * - which scenario file both sides sweep: always the head's, so a pull request that edits the
 *   scenario (or a schema default) compares the code on one scenario. A copy goes into the base's
 *   tree beside the base's own file, so paths in it (a handler module) resolve to the base's code.
 */

/**
 * Who runs the base's sweep: `base`, the base's own fanout-tuner (this repository's workflow, where
 * the tool is what changes), or `shared`, one fanout-tuner for both sides (the composite action,
 * where the user's job is what changes).
 */
export type BaseTool = 'base' | 'shared';

export interface PlanOptions {
  baseDir: string;
  headDir: string;
  /** The scenario file, relative to each side's root. */
  scenario: string;
  tool: BaseTool;
}

export type Plan = { base: 'missing'; headScenario: string; notes: string[] } | { base: 'ready'; headScenario: string; baseScenario: string; notes: string[] };

/** The prefix of the copy of the head's scenario in the base's tree; no one else writes such a name. */
export const HEAD_SCENARIO_PREFIX = '.fanout-tuner-head-';

export function planComparison(options: PlanOptions): Plan {
  const headScenario = resolve(options.headDir, options.scenario);
  if (!existsSync(headScenario)) {
    throw new InputError({
      file: headScenario,
      field: '--scenario',
      problem: 'the head has no such scenario file',
      fix: 'pass the path of the scenario file relative to the repository root',
    });
  }
  const scenarioName = escapeMarkdown(options.scenario);
  const baseScenarioOwn = resolve(options.baseDir, options.scenario);
  const missing = missingForBase(options);
  if (missing.length) {
    return {
      base: 'missing',
      headScenario,
      notes: [
        `**Nothing to compare with:** the base has no ${missing.map(escapeMarkdown).join(' and no ')}, so this pull request is the one ` +
          'that sets fanout-tuner up. The head was swept alone; its results and report are in the artifact, and the next pull request is compared.',
      ],
    };
  }
  const headText = readFileSync(headScenario, 'utf8');
  const notes: string[] = [];
  if (!existsSync(baseScenarioOwn)) {
    notes.push(`The base has no ${scenarioName}: both sides were swept with the head's.`);
  } else if (readFileSync(baseScenarioOwn, 'utf8') !== headText) {
    notes.push(
      `This pull request edits ${scenarioName}: both sides were swept with the head's version of it, ` +
        'so the comparison shows what the code changes, not the edit.',
    );
  }
  const baseScenario = join(dirname(baseScenarioOwn), `${HEAD_SCENARIO_PREFIX}${basename(options.scenario)}`);
  if (existsSync(baseScenario) && readFileSync(baseScenario, 'utf8') !== headText) {
    throw new InputError({
      file: baseScenario,
      problem: "exists and is not a copy of the head's scenario file",
      fix: 'plan in a fresh checkout of the base',
    });
  }
  mkdirSync(dirname(baseScenario), { recursive: true });
  writeFileSync(baseScenario, headText);
  return { base: 'ready', headScenario, baseScenario, notes };
}

/** What the base lacks to be swept, in words; empty when it can be. */
function missingForBase(options: PlanOptions): string[] {
  if (options.tool === 'shared') {
    return existsSync(resolve(options.baseDir, options.scenario)) ? [] : [options.scenario];
  }
  const missing: string[] = [];
  const manifest = resolve(options.baseDir, 'package.json');
  const scripts = existsSync(manifest) ? readScripts(manifest) : undefined;
  if (typeof scripts?.sweep !== 'string') missing.push('"sweep" script in package.json');
  if (!existsSync(resolve(options.baseDir, 'package-lock.json'))) missing.push('package-lock.json');
  return missing;
}

/** The scripts of a package.json; a base whose manifest does not parse has none to run. */
function readScripts(manifest: string): Record<string, unknown> | undefined {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, unknown> }).scripts;
  } catch {
    return undefined;
  }
}

/** The plan as `key=value` lines, the format of `$GITHUB_OUTPUT`. */
export function planOutputs(plan: Plan): string {
  const lines = [`base=${plan.base}`, `head-scenario=${plan.headScenario}`];
  if (plan.base === 'ready') lines.push(`base-scenario=${plan.baseScenario}`);
  return `${lines.join('\n')}\n`;
}
