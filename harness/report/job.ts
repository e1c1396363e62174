import { HELPS_MIN_GAIN } from '../analyze/classify.ts';
import type { Results } from '../results/schema.ts';
import { formatPercent, workers } from './format.ts';

/**
 * What limits the job, as the report shows it: the classifier's verdict (harness/analyze/
 * classify.ts, stored in the results file) in a headline and three figures. Pure; only files
 * written since the classifier exists carry a classification, so every builder takes undefined.
 */

export type Classification = NonNullable<Results['classification']>;

export interface JobFigure {
  label: string;
  value: string;
  note: string;
  /** Whether turning this knob further should shorten the job; undefined for a figure that is not a knob. */
  helps: boolean | undefined;
}

export interface JobView {
  kind: Classification['kind'];
  /** "I/O-bound: the job waits on the network". */
  headline: string;
  /** "60 workers and 1024 MB": the cell the class was read at. */
  where: string;
  figures: JobFigure[];
  /** The classifier's advice as written in the results file (free text: escape it). */
  advice: string;
}

const HEADLINES: Record<Classification['kind'], string> = {
  'io-bound': 'I/O-bound: the job waits on the network',
  mixed: 'Partly CPU-bound: the job waits on the network and on its own CPU',
  'cpu-bound': 'CPU-bound: the job waits on its own CPU',
};

/** "12% faster", "3% slower", or "no faster" when it rounds to 0%. */
function gainWords(gain: number): string {
  if (Math.round(gain * 100) === 0) return 'no faster';
  return gain > 0 ? `${formatPercent(gain)} faster` : `${formatPercent(-gain)} slower`;
}

export function jobView(classification: Classification | undefined): JobView | undefined {
  if (!classification) return undefined;
  const { kind, concurrency, memoryMb, cpuBusy, memoryGain, concurrencyGain, bestIsHighest } = classification;
  const where = `${workers(concurrency)} and ${memoryMb} MB`;
  const memory: JobFigure =
    memoryGain === undefined
      ? { label: 'More memory', value: 'not measured', note: 'only one memory size was swept', helps: undefined }
      : {
          label: 'More memory',
          value: gainWords(memoryGain),
          note: `the largest memory size swept against the smallest, at ${workers(concurrency)}`,
          helps: memoryGain >= HELPS_MIN_GAIN,
        };
  const moreConcurrency: JobFigure =
    concurrencyGain === undefined
      ? { label: 'More concurrency', value: 'not measured', note: `no concurrency below the fastest was swept at ${memoryMb} MB`, helps: undefined }
      : {
          label: 'More concurrency',
          value: gainWords(concurrencyGain),
          note: bestIsHighest
            ? `the fastest concurrency, the highest swept, against the next lower one at ${memoryMb} MB`
            : `the fastest concurrency against the next lower one at ${memoryMb} MB; higher ones were slower`,
          helps: bestIsHighest && concurrencyGain >= HELPS_MIN_GAIN,
        };
  return {
    kind,
    headline: HEADLINES[kind],
    where,
    figures: [
      { label: 'CPU busy', value: formatPercent(cpuBusy), note: `of the CPU the job could use, at ${where}`, helps: undefined },
      memory,
      moreConcurrency,
    ],
    advice: classification.advice,
  };
}
