import { DomUtils, parseDocument } from 'htmlparser2';
import type { Element } from 'domhandler';
import { describe, expect, it } from 'vitest';
import { buildHtml, type LibrarySources } from '../harness/report/html.ts';
import { buildMarkdown } from '../harness/report/markdown.ts';
import { formatModelError, modelCells, modelColumns, modelTrust } from '../harness/report/model.ts';
import type { Results } from '../harness/results/schema.ts';
import { completedCell, failedCell, results } from './fixtures/results.ts';

const libraries: LibrarySources = { vega: '', vegaLite: '', vegaEmbed: '' };

/** A time-scaled sweep with the simulator's fields and the classifier's verdict. */
function modelled(): Results {
  return results(
    [
      completedCell(1, 128, 25_700, { fidelityRatio: 1.12, simulatedMs: 27_900, modelError: 0.0856, timeScaleCorrectionMs: 630, projectedMs: 25_400 }),
      completedCell(8, 128, 9_200, { fidelityRatio: 1.08, simulatedMs: 8_650, modelError: -0.0598, timeScaleCorrectionMs: 200, projectedMs: 9_050 }),
      completedCell(60, 128, 7_690, { fidelityRatio: 1.02, simulatedMs: 7_520, modelError: -0.0221, timeScaleCorrectionMs: 10, projectedMs: 7_600 }),
      completedCell(1, 1769, 23_300, { fidelityRatio: 1.01, simulatedMs: 23_320, modelError: 0.0009 }),
      failedCell(128, 128, 'oom', 'the job ran out of memory (heap limit 88 MB)'),
    ],
    {
      method: { backend: 'msw', cpuThrottle: 'cgroup', timeScale: 16, reps: 2, warmupInvocations: 1, notes: [] },
      classification: {
        kind: 'mixed',
        concurrency: 60,
        memoryMb: 128,
        cpuBusy: 0.39,
        memoryGain: 0.01,
        bestIsHighest: false,
        advice: 'Partly CPU-bound: more memory does not help.',
      },
    },
  );
}

describe('what the simulator adds, as the report shows it', () => {
  it('formats a model error with its sign and one decimal', () => {
    expect([0.0856, -0.0598, 0, -0.0004].map(formatModelError)).toEqual(['+8.6%', '−6.0%', '0.0%', '−0.0%']);
  });

  it('gives the table only the model columns some completed cell has', () => {
    expect(modelColumns(modelled().cells)).toEqual({ projected: true, modelError: true, correction: true });
    expect(modelColumns([completedCell(1, 512, 1000)])).toEqual({ projected: false, modelError: false, correction: false });
    const columns = modelColumns(modelled().cells);
    expect(modelCells(modelled().cells[0] as never, columns)).toEqual(['25.4 s', '+8.6%', '−630 ms']);
    // A cell without a value gets a dash, not "undefined".
    expect(modelCells(modelled().cells[3] as never, columns)).toEqual(['–', '+0.1%', '–']);
  });

  it('counts the faithful cells the simulator agreed with, and names the worst', () => {
    const trust = modelTrust(modelled().cells)!;
    // The serial 128 MB cell is not faithful (1.12 > 1.10), so its +8.6% is not held against the model.
    expect(trust).toMatchObject({ checked: 3, within: 2, tolerance: 0.05, worst: { concurrency: 8, memoryMb: 128, modelError: -0.0598 } });
    expect(trust.sentence).toBe('The simulator agreed with the replay within 5% at 2 of 3 faithful cells; the worst was −6.0% at 8 workers, 128 MB.');
    expect(modelTrust([completedCell(1, 512, 1000)])).toBeUndefined();
  });
});

describe('the HTML report with the simulator and the classifier', () => {
  const document = parseDocument(buildHtml(modelled(), { libraries }));
  const text = (id: string) => DomUtils.textContent(DomUtils.getElementById(id, document)!).replace(/\s+/g, ' ').trim();

  it('says what bounds the job, how busy its CPU was and how far the simulator agreed', () => {
    const job = text('job');
    expect(job).toContain('What bounds the job Partly CPU-bound');
    expect(job).toContain('Partly CPU-bound: more memory does not help.');
    expect(job).toContain('CPU busy 39% of the CPU it could use, at 60 workers, 128 MB.');
    expect(job).toContain('The simulator agreed with the replay within 5% at 2 of 3 faithful cells; the worst was −6.0% at 8 workers, 128 MB.');
    expect(job).toContain('(“Scaling”, already taken off the durations)');
  });

  it('adds the production duration, the model error and the time-scale correction to each row', () => {
    const table = DomUtils.getElementById('results', document)!;
    const headers = DomUtils.getElementsByTagName('th', table).map((th) => DomUtils.textContent(th));
    expect(headers.slice(-4)).toEqual(['Request p95', 'Production', 'Model', 'Scaling']);
    const rows = DomUtils.getElementsByTagName('tbody', table)[0]!.children.filter((n): n is Element => n.type === 'tag');
    const serial = rows.find((row) => DomUtils.textContent(row).startsWith('128 MB1'))!;
    expect(DomUtils.getElementsByTagName('td', serial).slice(-3).map((td) => DomUtils.textContent(td))).toEqual(['25.4 s', '+8.6%', '−630 ms']);
    // A failed cell's message spans the value columns, the model's included.
    const oom = rows.find((row) => DomUtils.textContent(row).includes('heap limit 88 MB'))!;
    expect(DomUtils.getElementsByTagName('td', oom).at(-1)!.attribs.colspan).toBe('11');
  });

  it('shows none of it for results written before the simulator and the classifier', () => {
    const plain = parseDocument(buildHtml(results([completedCell(1, 512, 1000)]), { libraries }));
    expect(DomUtils.getElementById('job', plain)).toBeNull();
    const headers = DomUtils.getElementsByTagName('th', DomUtils.getElementById('results', plain)!).map((th) => DomUtils.textContent(th));
    expect(headers.at(-1)).toBe('Request p95');
    expect(DomUtils.textContent(plain)).not.toMatch(/undefined|NaN/);
  });
});

describe('the Markdown summary with the simulator and the classifier', () => {
  const markdown = buildMarkdown(modelled());

  it('states the verdict and the simulator agreement before the warnings', () => {
    expect(markdown).toContain(
      '**Partly CPU-bound.** Partly CPU-bound: more memory does not help. CPU busy 39% of the CPU it could use, at 60 workers, 128 MB.\n\nSimulator: The simulator agreed with the replay within 5% at 2 of 3 faithful cells; the worst was −6.0% at 8 workers, 128 MB.\n',
    );
  });

  it('adds the model columns to every row of the table', () => {
    const rows = markdown.split('\n').filter((line) => line.startsWith('| '));
    expect(rows[0]).toBe('| Memory | Workers | State | Duration | 95% CI | Cost / month | vs 1 worker | Failed requests | Peak memory | Fidelity | Production | Model | Scaling |');
    expect(rows.every((row) => row.split(/(?<!\\)\|/).length === 15)).toBe(true);
    expect(rows).toContain('| 1769 MB | 1 | completed | 23.3 s | 22.1 s – 24.5 s | $0 | – | 0% | 80 MB | 1.01 | – | +0.1% | – |');
    expect(rows).toContain('| 128 MB | 60 | completed | 7.7 s | 7.3 s – 8.1 s | $0 | – | 0% | 80 MB | 1.02 | 7.6 s | −2.2% | −10 ms |');
  });
});
