import { describe, expect, it } from 'vitest';
import { compareResults } from '../harness/analyze/compare.ts';
import { compareMarkdown, formatChangePct } from '../harness/report/compare-markdown.ts';
import { escapeMarkdown } from '../harness/report/escape.ts';
import { compareText } from '../harness/report/compare-text.ts';
import type { Recommendation } from '../harness/results/schema.ts';
import { failedCell, results } from './fixtures/results.ts';
import { allFailedResults, cellWithFactors, gridResults, NOISY, QUIET, withFailedRequests } from './fixtures/compare.ts';

const options = { thresholdPct: 5, allowScenarioChange: false, files: { base: 'base.json', head: 'head.json' } };

/** Pipes that end a table cell: those not escaped with a backslash. */
function cellSeparators(line: string): number {
  return line.match(/(?<!\\)\|/g)?.length ?? 0;
}

describe('compareMarkdown', () => {
  it('names the regressions at the top, before the table', () => {
    const markdown = compareMarkdown(compareResults(gridResults(1), gridResults(1.3), options));
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('## fanout-tuner: head vs base');
    expect(lines[2]).toBe('**❌ 6 regressions** beyond the 5% threshold:');
    expect(lines[4]).toBe('- **concurrency 1, 512 MB, x86\\_64**: +30.0% (4000.0 ms -> 5200.0 ms, interval of head/base 1.281-1.320)');
    expect(markdown.indexOf('**❌ 6 regressions**')).toBeLessThan(markdown.indexOf('### Cells'));
  });

  it('gives each cell a row with both medians, the change, the interval and the verdict', () => {
    const markdown = compareMarkdown(compareResults(gridResults(1), gridResults(1.3), options));
    expect(markdown).toContain('| 1 | 512 | x86_64 | 4000.0 | 5200.0 | +30.0% | 1.281-1.320 | 0% -> 0% | $4.00 -> $5.20 (+30.0%) | ❌ regression |');
    const tableRows = markdown.split('\n').filter((line) => line.startsWith('| ') && /^\| \d/.test(line));
    expect(tableRows).toHaveLength(6);
  });

  it('says there is no regression when there is none', () => {
    const markdown = compareMarkdown(compareResults(gridResults(1), gridResults(1.03), options));
    expect(markdown.split('\n')[2]).toBe('**✅ No regression** beyond the 5% threshold.');
    expect(markdown).toContain('| within threshold |');
  });

  it('lists the warnings and marks the cells too noisy for the threshold', () => {
    const markdown = compareMarkdown(compareResults(gridResults(1, NOISY), gridResults(1.1, NOISY), options));
    expect(markdown).toContain('### Warnings');
    expect(markdown).toContain('no significant change ⚠ too noisy |');
    expect(markdown).toContain('--reps 2467');
  });

  it('shows the recommendation of each side and says when the settings changed', () => {
    const recommendation = (memoryMb: number, costUsdPerMonth: number): Recommendation => ({
      strategy: 'cost',
      concurrency: 4,
      memoryMb,
      architecture: 'x86_64',
      durationMs: 1000,
      costUsdPerMonth,
      why: 'x',
    });
    const base = gridResults(1, QUIET, { recommendation: recommendation(512, 1) });
    const head = gridResults(1, QUIET, { recommendation: recommendation(1024, 1.25) });
    const markdown = compareMarkdown(compareResults(base, head, options));
    expect(markdown).toContain('**The recommended settings changed.** Projected monthly cost +25.0%.');
    expect(markdown).toContain('| memory (MB) | 512 | 1024 |');
    expect(markdown).toContain('| cost per month (USD) | $1.00 | $1.25 |');
  });

  it('escapes what comes from the files, so a branch name cannot break the table or inject HTML', () => {
    const env = { node: 'v20.20.2', platform: 'linux', cpus: 2, commit: 'abc', branch: 'evil|<img src=x>\n# heading' };
    const head = results([failedCell(1, 512, 'errored', 'boom | <script>alert(1)</script>\nnext')], { env });
    const base = results([cellWithFactors(1, 512, 1000, QUIET)], { env });
    const markdown = compareMarkdown(compareResults(base, head, options));
    expect(markdown).not.toContain('<img');
    expect(markdown).not.toContain('<script>');
    expect(markdown).toContain('evil\\|&lt;img src=x&gt; \\# heading');
    expect(markdown).toContain('errored on head: boom \\| &lt;script&gt;alert(1)&lt;/script&gt; next');
    const table = markdown.split('\n').filter((line) => line.startsWith('|'));
    expect(new Set(table.slice(0, 9).map(cellSeparators)).size).toBe(1);
  });

  it('shows a newly failing cell in the table with both states', () => {
    const base = results([cellWithFactors(1, 512, 1000, QUIET)]);
    const head = results([failedCell(1, 512, 'oom', 'out of memory')]);
    const markdown = compareMarkdown(compareResults(base, head, options));
    expect(markdown).toContain('| 1 | 512 | x86_64 | completed | oom | | | | | ❌ oom on head |');
  });
});

describe('compareMarkdown and compareText on failures and unmatched cells', () => {
  it('names a cell whose failed requests rose as a regression, with both rates, the limit and the duration change', () => {
    const comparison = compareResults(gridResults(1), withFailedRequests(gridResults(0.8), 5), options);
    const markdown = compareMarkdown(comparison);
    expect(markdown.split('\n')[2]).toBe('**❌ 6 regressions** beyond the 5% threshold:');
    expect(markdown).toContain('- **concurrency 1, 512 MB, x86\\_64**: failed requests 0% -> 50%, beyond the limit of 1.0%; duration -20.0%');
    expect(markdown).toContain('| 1 | 512 | x86_64 | 4000.0 | 3200.0 | -20.0% | 0.788-0.812 | 0% -> 50% | $4.00 -> $3.20 (-20.0%) | ❌ more failed requests |');
    expect(markdown).not.toContain('improvement');
    expect(compareText(comparison)).toContain(
      '  1        512  x86_64   4000.0   3200.0  -20.0%  0.788-0.812         0% -> 50%  $4.00 -> $3.20  more failed requests\n',
    );
  });

  it('says head measured nothing when no cell completed on head, and claims no "no regression"', () => {
    const comparison = compareResults(allFailedResults('timeout', 'over 30 s'), allFailedResults(), options);
    const markdown = compareMarkdown(comparison);
    expect(markdown.split('\n')[2]).toBe('**❌ No cell completed on head (6 errored): head measured nothing.**');
    expect(markdown).not.toContain('No regression');
    const text = compareText(comparison);
    expect(text).toContain('FAILED: no cell completed on head (6 errored): head measured nothing.');
    expect(text).not.toContain('No regression');
  });

  it('names the cells found on one side only in the table, not only in a warning', () => {
    const base = results([cellWithFactors(1, 512, 1000, QUIET), cellWithFactors(2, 512, 500, QUIET)]);
    const head = results([cellWithFactors(1, 512, 1000, QUIET), cellWithFactors(4, 1024, 250, QUIET)]);
    const comparison = compareResults(base, head, options);
    const markdown = compareMarkdown(comparison);
    expect(markdown).toContain('| 2 | 512 | x86_64 | | | | | | | only in base, not compared |');
    expect(markdown).toContain('| 4 | 1024 | x86_64 | | | | | | | only in head, not compared |');
    const rows = compareText(comparison).split('\n');
    expect(rows[4]).toBe(`          2        512  x86_64${' '.repeat(74)}only in base, not compared`);
    expect(rows[5]).toBe(`          4       1024  x86_64${' '.repeat(74)}only in head, not compared`);
  });

  it('neutralises @mentions from branch names and scenario names', () => {
    const env = { node: 'v20.20.2', platform: 'linux', cpus: 2, commit: 'abc', branch: 'fix-for-@octo-org/admins' };
    const scenario = { ...gridResults(1).scenario, name: 'ping @everyone' };
    const head = gridResults(1, QUIET, { env, scenario });
    const markdown = compareMarkdown(compareResults(gridResults(1, QUIET, { scenario }), head, options));
    expect(markdown).toContain('fix-for-@\u200docto-org/admins at abc');
    expect(markdown).toContain('Scenario: ping @\u200deveryone.');
    // No @ is followed by a character a mention could start with.
    expect(markdown).not.toMatch(/@[\w-]/);
  });
});

describe('escapeMarkdown', () => {
  it('backslash-escapes Markdown punctuation and turns HTML and line breaks harmless', () => {
    expect(escapeMarkdown('a|b *c* _d_ [e](f) `g`')).toBe('a\\|b \\*c\\* \\_d\\_ \\[e\\](f) \\`g\\`');
    expect(escapeMarkdown('<b>&</b>')).toBe('&lt;b&gt;&amp;&lt;/b&gt;');
    expect(escapeMarkdown('one\r\ntwo\nthree')).toBe('one two three');
  });
});

describe('number formats', () => {
  it('signs changes', () => {
    expect(formatChangePct(30.000000000000004)).toBe('+30.0%');
    expect(formatChangePct(-2.04)).toBe('-2.0%');
    expect(formatChangePct(-0.01)).toBe('0.0%');
    expect(formatChangePct(Number.NaN)).toBe('n/a');
  });
});

describe('compareText', () => {
  it('prints an aligned table and the regressions for the terminal', () => {
    const text = compareText(compareResults(gridResults(1), gridResults(1.3), options));
    const lines = text.split('\n');
    expect(lines[0]).toBe('base base.json (main abc1234) vs head head.json (main abc1234), threshold 5%');
    expect(lines[2]).toBe('concurrency  memory MB  arch    base ms  head ms  change  head/base interval  failed    cost/month      verdict');
    expect(lines[3]).toBe('          1        512  x86_64   4000.0   5200.0  +30.0%  1.281-1.320         0% -> 0%  $4.00 -> $5.20  regression');
    expect(text).toContain('REGRESSION in 6 cells beyond 5%:\n  concurrency 1, 512 MB, x86_64: regression +30.0%, interval 1.281-1.320');
  });
});
