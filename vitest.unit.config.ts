import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:unit`: the pure tests (model, analysis, report builders, formats, validation),
 * which start no process, open no socket and time nothing, so they may run side by side; the
 * whole suite (`npm test`, what CI runs) includes them too. A new pure test file joins by its
 * name, `*.unit.test.ts`; the files below came before that convention.
 */
export const UNIT_TESTS = [
  'test/**/*.unit.test.ts',
  'test/bundled-scenarios.test.ts',
  'test/calibrate.test.ts',
  'test/ci-workflow.test.ts',
  'test/classify.test.ts',
  'test/compare-markdown.test.ts',
  'test/compare.test.ts',
  'test/connections.test.ts',
  'test/distributions.test.ts',
  'test/function-process.test.ts',
  'test/lambda-model.test.ts',
  'test/model-check.test.ts',
  'test/pricing.test.ts',
  'test/race.test.ts',
  'test/recommend.test.ts',
  'test/report-charts.test.ts',
  'test/report-escaping.test.ts',
  'test/report-html.test.ts',
  'test/report-model.test.ts',
  'test/report-summary.test.ts',
  'test/report-terminal.test.ts',
  'test/results-versions.test.ts',
  'test/scenario.test.ts',
  'test/simulate.test.ts',
  'test/sweep-parallel.test.ts',
  'test/sweep-warnings.test.ts',
  'test/two-sample.test.ts',
];

export default defineConfig({
  test: {
    ...base.test,
    include: UNIT_TESTS,
    // Nothing here measures wall time: files may run side by side, two at least even on two
    // cores (vitest would keep one core for itself and run them one by one). They change no
    // global state either, so they may share their modules instead of loading them again per
    // file, which was half the time. Under a load average of 9 on the 2-core development
    // machine: 31 s one at a time, 33 s two at a time isolated, 16 s shared.
    fileParallelism: true,
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
  },
});
