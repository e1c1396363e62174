import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { type Results } from './schema.ts';

/** The machine and checkout a sweep ran on, for the results' `env`. */

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Where the results come from. FANOUT_TUNER_COMMIT and FANOUT_TUNER_BRANCH name the side being
 * swept in CI, where GITHUB_SHA is the same merge commit for base and head, and where the
 * composite action's tool runs from its own checkout, not the job's.
 */
export function describeEnvironment(): Results['env'] {
  const env = process.env;
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    commit: env.FANOUT_TUNER_COMMIT || env.GITHUB_SHA || git(['rev-parse', 'HEAD']),
    branch: env.FANOUT_TUNER_BRANCH || env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || git(['rev-parse', '--abbrev-ref', 'HEAD']),
  };
}
