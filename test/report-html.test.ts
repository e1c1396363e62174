import { DomUtils, parseDocument } from 'htmlparser2';
import type { Element } from 'domhandler';
import { describe, expect, it } from 'vitest';
import { buildCharts } from '../harness/report/charts/index.ts';
import { escapeHtml, escapeMarkdown, html, jsonForScript, scriptSource } from '../harness/report/escape.ts';
import { createHash } from 'node:crypto';
import { buildHtml, contentSecurityPolicy, type LibrarySources } from '../harness/report/html.ts';
import { buildMarkdown } from '../harness/report/markdown.ts';
import { modelledSmallSweep, smallSweep, sweepResults } from './fixtures/sweep-results.ts';

/** Stand-ins for the minified libraries: what matters here is where and how they are inlined. */
const libraries: LibrarySources = {
  vega: 'window.vega = {}; /* vega */\n//# sourceMappingURL=vega.min.js.map',
  vegaLite: 'window.vegaLite = {}; /* vega-lite */',
  vegaEmbed: 'window.vegaEmbed = function () {}; /* vega-embed */',
};

function elements(document: ReturnType<typeof parseDocument>, name: string): Element[] {
  return DomUtils.getElementsByTagName(name, document, true);
}

function policyOf(document: ReturnType<typeof parseDocument>): string {
  return DomUtils.findOne((el) => el.attribs['http-equiv'] === 'Content-Security-Policy', document.children)!.attribs.content!;
}

describe('escaping helpers', () => {
  it('escapes the five HTML special characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('escapes interpolated strings in the html template but not nested fragments', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"x"'}">${inner}${['<', 1, null, false]}</p>`.value).toBe('<p title="&quot;x&quot;"><b>&lt;i&gt;</b>&lt;1</p>');
  });

  it('writes JSON a <script> element cannot be closed by, and that parses back to the same value', () => {
    const value = { text: '</script><script>alert(1)</script> & \u2028\u2029 <!--' };
    const json = jsonForScript(value);
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(json).toBe('{"text":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026 \\u2028\\u2029 \\u003c!--"}');
    expect(JSON.parse(json)).toEqual(value);
  });

  it('inlines library code without its source map and without a closing script tag', () => {
    expect(scriptSource('var a = "</script>";\n//# sourceMappingURL=x.js.map\n')).toBe('var a = "<\\/script>";\n\n');
    expect(scriptSource('s="</SCRIPT >"')).toBe('s="<\\/SCRIPT >"');
  });

  it('makes Markdown text literal: pipes, emphasis, code, links, HTML, mentions and line breaks', () => {
    expect(escapeMarkdown('a|b *c* `d` [e](f) <g> & @team\nnext $x$')).toBe('a\\|b \\*c\\* \\`d\\` \\[e\\](f) &lt;g&gt; &amp; @\u200dteam next \\$x\\$');
  });
});

describe('the HTML report', () => {
  const results = sweepResults();
  const charts = buildCharts(results);
  const staticSvgs = Object.fromEntries(charts.map((c) => [c.id, `<svg xmlns="http://www.w3.org/2000/svg"><title>${c.id}</title></svg>`]));
  const page = buildHtml(results, { libraries, current: { concurrency: 60, memoryMb: 1769 }, charts, staticSvgs });
  const document = parseDocument(page);

  it('forbids every remote load with a Content-Security-Policy set before any script', () => {
    const head = page.slice(0, page.indexOf('</head>'));
    expect(head.indexOf('http-equiv="Content-Security-Policy"')).toBeGreaterThan(0);
    expect(head.indexOf('http-equiv="Content-Security-Policy"')).toBeLessThan(head.indexOf('<script'));
    expect(page).not.toContain('unsafe-eval');
  });

  it('lets a script run only by the sha256 of its exact text, never by unsafe-inline', () => {
    const policy = policyOf(document);
    const directives = Object.fromEntries(
      policy
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(Object.keys(directives)).toEqual(['default-src', 'script-src', 'style-src', 'img-src', 'base-uri', 'form-action']);
    expect(directives['default-src']).toEqual(["'none'"]);
    // What the browser hashes: the text of each script element that runs (not the JSON data block).
    const running = elements(document, 'script').filter((s) => s.attribs.type === undefined);
    expect(running).toHaveLength(5);
    const hashes = running.map((s) => `'sha256-${createHash('sha256').update(DomUtils.textContent(s), 'utf8').digest('base64')}'`);
    expect(directives['script-src']).toEqual(hashes);
    expect(policy).not.toContain("script-src 'unsafe-inline'");
    // The hash of the first script, `document.documentElement.className = 'js';`, by hand.
    expect(hashes[0]).toBe(`'sha256-${createHash('sha256').update("document.documentElement.className = 'js';").digest('base64')}'`);
  });

  it('hashes the library text the page holds: line breaks as LF, as the browser reads them', () => {
    const crlf = buildHtml(results, { libraries: { ...libraries, vega: 'window.vega = {};\r\n/* a */\r' }, charts, staticSvgs });
    const crlfDocument = parseDocument(crlf);
    const vega = elements(crlfDocument, 'script')[2]!;
    expect(DomUtils.textContent(vega)).toBe('window.vega = {};\n/* a */\n');
    expect(policyOf(crlfDocument)).toContain(`'sha256-${createHash('sha256').update('window.vega = {};\n/* a */\n').digest('base64')}'`);
    expect(contentSecurityPolicy(['a', 'a'])).toBe(
      `default-src 'none'; script-src 'sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs='; style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; form-action 'none'`,
    );
  });

  it('loads nothing from elsewhere: no src or href but data: images and in-page anchors', () => {
    const withSource = DomUtils.findAll((el) => 'src' in el.attribs || 'href' in el.attribs, document.children);
    const sources = withSource.map((el) => el.attribs.src ?? el.attribs.href ?? '');
    expect(sources.filter((s) => !s.startsWith('data:image/svg+xml;base64,'))).toEqual([]);
    expect(elements(document, 'link')).toEqual([]);
  });

  it('inlines the three libraries, in order, then the code that draws the charts', () => {
    const scripts = elements(document, 'script').map((s) => DomUtils.textContent(s));
    expect(scripts).toHaveLength(6);
    expect(scripts[2]).toBe('window.vega = {}; /* vega */\n');
    expect(scripts[3]).toBe(libraries.vegaLite);
    expect(scripts[4]).toBe(libraries.vegaEmbed);
    expect(scripts[5]).toContain("vegaEmbed(container, chart.spec, { renderer: 'svg', actions: false, ast: true");
  });

  it('embeds every chart spec as JSON that parses back to the specs built', () => {
    const json = DomUtils.textContent(DomUtils.getElementById('fanout-chart-specs', document)!);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(charts.map(({ id, spec }) => ({ id, spec })))));
  });

  it('has a container and a static fallback picture for each chart', () => {
    expect(charts.map((c) => DomUtils.getElementById(`chart-${c.id}`, document)?.attribs['data-chart'])).toEqual(charts.map((c) => c.id));
    const fallback = DomUtils.findOne((el) => el.attribs.class === 'chart-fallback', DomUtils.getElementById('figure-pareto', document)!.children)!;
    const svg = Buffer.from(fallback.attribs.src!.replace('data:image/svg+xml;base64,', ''), 'base64').toString('utf8');
    expect(svg).toBe('<svg xmlns="http://www.w3.org/2000/svg"><title>pareto</title></svg>');
  });

  it('leads with the recommendation and what it saves against 1 worker and the current setting', () => {
    const summary = DomUtils.textContent(DomUtils.getElementById('summary', document)!).replace(/\s+/g, ' ');
    expect(summary).toContain('60 workers at 1024 MB x86_64');
    expect(summary).toContain('strategy: balanced');
    expect(summary).toContain('8.3 s');
    expect(summary).toContain('$1.20');
    expect(summary).toContain('64% faster and 64% cheaper than 1 worker at 1024 MB ($2.16/month saved).');
    expect(summary).toContain('2% slower and 41% cheaper than your current 60 workers at 1769 MB ($0.84/month saved).');
  });

  it('lists every warning', () => {
    const items = DomUtils.findAll((el) => el.name === 'li' && (el.attribs.class ?? '').startsWith('warning'), document.children);
    expect(items).toHaveLength(7);
    expect(DomUtils.textContent(items[3]!)).toBe(
      'errored 32 workers at 3008 MB errored: the cell process exited with code 1: ECONNREFUSED 127.0.0.1:41873. See the error and rerun the cell.',
    );
  });

  it('has one table row per cell, the pick and the current setting marked', () => {
    const rows = elements(document, 'tbody')[0]!.children.filter((n): n is Element => n.type === 'tag');
    expect(rows).toHaveLength(54);
    const pick = rows.filter((r) => (r.attribs.class ?? '').split(' ').includes('pick'));
    expect(pick.map((r) => DomUtils.textContent(r).replace(/\s+/g, ' '))).toEqual([
      '1024 MB60completed recommended8.3 s8.1 s – 8.5 s$1.20−64%0%126 MB1.06399 ms',
    ]);
    expect(rows.filter((r) => (r.attribs.class ?? '').includes('current')).map((r) => DomUtils.textContent(r.children[0]!))).toEqual(['1769 MB']);
    const oom = rows.find((r) => DomUtils.textContent(r).includes('peak memory 187.2 MB'))!;
    expect(DomUtils.textContent(oom)).toBe('128 MB128out of memory peak memory 187.2 MB exceeded the 128 MB limit');
  });

  it('describes the method, the environment and the scenario', () => {
    const method = DomUtils.textContent(DomUtils.getElementById('method', document)!).replace(/\s+/g, ' ');
    expect(method).toContain('Mock backendmsw');
    expect(method).toContain('latencies 10× shorter, durations scaled back');
    expect(method).toContain('5 per cell, after 1 warm-up invocation');
    expect(method).toContain('Commit3b2a1b1 on main');
    expect(method).toContain('100 requests to news.example');
    expect(method).toContain('news.examplelognormal, median 180 ms, p99 900 ms48 at once40 req/s, burst 405xx 1.0%, timeouts 0%, resets 0%');
  });

  it("says how sure the pick is: the race's outcome and the equivalent set", () => {
    const base = smallSweep();
    const decided = smallSweep({
      recommendation: {
        ...base.recommendation!,
        decision: {
          outcome: 'equivalent',
          equivalence: 0.02,
          winnerReps: 13,
          compared: [
            { concurrency: 128, memoryMb: 1024, architecture: 'x86_64', reps: 13, verdict: 'equivalent', ratio: 1.006, interval: [0.991, 1.015], pValue: 0.88 },
          ],
          equivalentSet: [
            { concurrency: 60, memoryMb: 1024, architecture: 'x86_64' },
            { concurrency: 128, memoryMb: 1024, architecture: 'x86_64' },
          ],
          budgetS: 60,
        },
      },
    });
    const summary = DomUtils.textContent(DomUtils.getElementById('summary', parseDocument(buildHtml(decided, { libraries })))!).replace(/\s+/g, ' ');
    expect(summary).toContain('How sureEquivalent setWithin 2% of each other: 60 workers at 1024 MB, 128 workers at 1024 MB.13 repetitions of the pick.');
    const without = DomUtils.textContent(DomUtils.getElementById('summary', parseDocument(buildHtml(base, { libraries })))!);
    expect(without).not.toContain('How sure');
  });

  it("says how many repetitions the cells got: a fixed count, or a race's screening", () => {
    const meta = (r: ReturnType<typeof smallSweep>) =>
      DomUtils.textContent(DomUtils.findOne((el) => el.attribs.class === 'meta', parseDocument(buildHtml(r, { libraries })).children)!);
    const fixed = smallSweep();
    expect(meta(fixed)).toContain(`· ${fixed.method.reps} repetitions each ·`);
    const raced = smallSweep({ method: { ...fixed.method, reps: 1, race: { budgetS: 60, equivalence: 0.02 } } });
    expect(meta(raced)).toContain('· 1 repetition per cell to screen, more for the contenders ·');
  });

  it('says when there is no recommendation and draws no latency chart', () => {
    const none = parseDocument(buildHtml(smallSweep({ recommendation: null }), { libraries }));
    expect(DomUtils.textContent(DomUtils.getElementById('summary', none)!)).toContain('No recommendation');
    expect(DomUtils.getElementById('chart-latency', none)).toBeNull();
    expect(DomUtils.getElementById('chart-pareto', none)).not.toBeNull();
  });
});

describe('the HTML report of a sweep the simulator and the classifier annotated', () => {
  const page = buildHtml(modelledSmallSweep(), { libraries });
  const document = parseDocument(page);
  const text = (id: string) => DomUtils.textContent(DomUtils.getElementById(id, document)!).replace(/\s+/g, ' ').trim();

  it('says what limits the job right after the recommendation, with the CPU-busy figure and the advice', () => {
    const sections = elements(document, 'section').map((s) => s.attribs.id);
    expect(sections.slice(0, 3)).toEqual(['summary', 'job', 'warnings']);
    expect(text('job')).toBe(
      'What limits the job · at 60 workers and 1024 MB I/O-bound: the job waits on the network ' +
        'CPU busy17%of the CPU the job could use, at 60 workers and 1024 MB ' +
        'More memory10% fasterthe largest memory size swept against the smallest, at 60 workers ' +
        'More concurrency65% fasterthe fastest concurrency, the highest swept, against the next lower one at 1024 MB ' +
        'I/O-bound: at 60 workers, 1024 MB the CPU is busy 17% of the time it could use; the job waits on the network. More memory helps: 1024 MB is 10% faster than 512 MB at 60 workers. More concurrency still helps: 60 workers, the most measured, are 65% faster than 1; sweep higher.',
    );
    const tiles = DomUtils.findAll(
      (el) => el.name === 'div' && (el.attribs.class ?? '').startsWith('tile'),
      DomUtils.getElementById('job', document)!.children,
    );
    expect(tiles.map((t) => t.attribs.class)).toEqual(['tile', 'tile good', 'tile good']);
  });

  it('adds the projected duration, the model error and the time-scale correction to each row', () => {
    const header = elements(document, 'thead')[0]!;
    expect(DomUtils.findAll((el) => el.name === 'th', header.children).map((th) => DomUtils.textContent(th))).toEqual([
      'Memory',
      'Workers',
      'State',
      'Duration',
      '95% CI',
      'Projected',
      'Cost / month',
      'vs 1 worker',
      'Failed requests',
      'Peak memory',
      'Fidelity',
      'Model error',
      'Time-scale correction',
      'Request p95',
    ]);
    const rows = elements(document, 'tbody')[0]!.children.filter((n): n is Element => n.type === 'tag');
    const cells = (row: Element) => row.children.filter((n): n is Element => n.type === 'tag').map((td) => DomUtils.textContent(td).trim());
    expect(rows.map(cells)).toEqual([
      ['512 MB', '1', 'completed', '24.0 s', '22.8 s – 25.2 s', '23.7 s', '$1.00', '–', '0%', '80 MB', '1.00', '+3.0%', '−80 ms', '120 ms'],
      ['512 MB', '60', 'completed', '9.0 s', '8.6 s – 9.4 s', '8.2 s', '$0.60', '−40%', '0%', '80 MB', '1.00', '−6.5%', '−600 ms', '120 ms'],
      ['512 MB', '128', 'out of memory', 'peak memory 530 MB exceeded the 512 MB limit'],
      ['1024 MB', '1', 'completed', '23.0 s', '21.9 s – 24.1 s', '22.9 s', '$1.87', '–', '0%', '80 MB', '1.00', '+2.0%', '−40 ms', '120 ms'],
      ['1024 MB', '60', 'completed recommended', '8.1 s', '7.7 s – 8.5 s', '7.6 s', '$1.16', '−38%', '10%', '96 MB', '1.20', '−25.0%', '−300 ms', '120 ms'],
    ]);
    expect(rows[2]!.children.filter((n): n is Element => n.type === 'tag')[3]!.attribs.colspan).toBe('11');
    // Flagged: beyond the 5% tolerance at a faithful cell; −25.0% is not, its fidelity is 1.20.
    const flagged = DomUtils.findAll((el) => el.name === 'td' && el.attribs.class === 'num flag', rows);
    expect(flagged.map((td) => DomUtils.textContent(td))).toEqual(['−6.5%', '1.20']);
    expect(text('results')).toContain('minus 1; flagged beyond ±5% where fidelity is at most 1.10.');
    expect(text('results')).toContain(
      "“Time-scale correction” is what the sweep changed each duration by: latencies ran 10× shorter but CPU work did not, and the simulator's estimate of the time that added is already subtracted.",
    );
  });

  it('says how far to trust the simulator: faithful cells checked, the worst model error and the tolerance', () => {
    expect(text('simulator')).toBe(
      'How far to trust the simulator ' +
        'Faithful cells checked31 more not faithful enough to check ' +
        'Worst model error−6.5%at 60 workers and 512 MB ' +
        'Tolerance±5%2 of 3 within ' +
        'Checked against the replay at 3 faithful cells (fidelity at most 1.10): 1 outside the ±5% tolerance, the worst −6.5% at 60 workers and 512 MB. Treat its projected durations with care. 1 more cell was not faithful enough to check. ' +
        "The model error is the simulator's makespan of the replay as it ran over the measured median, minus 1. A cell is faithful when its fidelity ratio is at most 1.10: there the replay measured the job, not the harness, so the two should agree.",
    );
    expect(DomUtils.getElementById('simulator', document)!.attribs.class).toBe('card simulator outside');
    const sections = elements(document, 'section').map((s) => s.attribs.id);
    expect(sections.slice(-3)).toEqual(['results', 'simulator', 'method']);
  });

  it('still renders a file written before the simulator and the classifier: no such section, column, undefined or NaN', () => {
    for (const old of [smallSweep(), sweepResults()]) {
      const oldPage = buildHtml(old, { libraries });
      const oldDocument = parseDocument(oldPage);
      expect(DomUtils.getElementById('job', oldDocument)).toBeNull();
      expect(DomUtils.getElementById('simulator', oldDocument)).toBeNull();
      expect(DomUtils.getElementById('chart-projection', oldDocument)).toBeNull();
      expect(oldPage).not.toMatch(/undefined|NaN|Projected|Model error|Time-scale correction/);
    }
  });

  it('shows only the part a file carries: the job without the simulator, the simulator without the job', () => {
    const jobOnly = parseDocument(buildHtml(smallSweep({ classification: modelledSmallSweep().classification }), { libraries }));
    expect([DomUtils.getElementById('job', jobOnly) !== null, DomUtils.getElementById('simulator', jobOnly) !== null]).toEqual([true, false]);
    const modelOnly = buildHtml(modelledSmallSweep({ classification: undefined }), { libraries });
    const modelOnlyDocument = parseDocument(modelOnly);
    expect([DomUtils.getElementById('job', modelOnlyDocument) !== null, DomUtils.getElementById('simulator', modelOnlyDocument) !== null]).toEqual([
      false,
      true,
    ]);
    expect(modelOnly).not.toMatch(/undefined|NaN/);
  });
});

describe('the Markdown summary', () => {
  const markdown = buildMarkdown(sweepResults(), {
    current: { concurrency: 60, memoryMb: 1769 },
    htmlHref: 'seed-case-study.html',
    charts: [{ id: 'cost', title: 'Cost per month vs concurrency', href: 'seed-case-study/cost.svg' }],
  });
  const lines = markdown.split('\n');

  it('opens with the recommendation and its savings', () => {
    expect(lines.slice(0, 9)).toEqual([
      '## fanout-tuner: seed-case-study',
      '',
      'A scraper Lambda fetching 100 news pages and writing rows to RDS',
      '',
      '**Recommended: 60 workers at 1024 MB** (x86_64, strategy balanced): 8.3 s per invocation, $1.20/month.',
      '',
      '- 64% faster and 64% cheaper than 1 worker at 1024 MB ($2.16/month saved).',
      '- 2% slower and 41% cheaper than your current 60 workers at 1769 MB ($0.84/month saved).',
      '- Why: Within 2% of the fastest duration for 41% less; more than 60 workers only adds 429s.',
    ]);
  });

  it('has a table of all 54 cells with 10 columns in every row', () => {
    const rows = lines.filter((l) => l.startsWith('| '));
    expect(rows).toHaveLength(55);
    expect(rows.every((r) => r.split(/(?<!\\)\|/).length === 12)).toBe(true);
    expect(rows).toContain('| 1024 MB | 60 | completed **(recommended)** | 8.3 s | 8.1 s – 8.5 s | $1.20 | −64% | 0% | 126 MB | 1.06 |');
    expect(rows).toContain('| 3008 MB | 32 | errored: the cell process exited with code 1: ECONNREFUSED 127.0.0.1:41873 | | | | | | | |');
  });

  it('links the HTML report and each chart SVG', () => {
    expect(markdown).toContain(
      '### Charts\n\n- [Interactive HTML report](seed-case-study.html)\n- [Cost per month vs concurrency](seed-case-study/cost.svg)\n',
    );
  });

  it('lists the warnings', () => {
    expect(markdown).toContain(
      '### Warnings (7)\n\n- 128 workers at 1769 MB: 40 responses were 429 Too Many Requests; the host rate limit caps useful concurrency.\n',
    );
  });
});

describe('the Markdown summary of a sweep the simulator and the classifier annotated', () => {
  const lines = buildMarkdown(modelledSmallSweep()).split('\n');

  it('says what limits the job after the recommendation', () => {
    expect(lines.slice(7, 11)).toEqual([
      '- Why: fastest',
      '',
      '**Job:** I/O-bound: at 60 workers, 1024 MB the CPU is busy 17% of the time it could use; the job waits on the network. More memory helps: 1024 MB is 10% faster than 512 MB at 60 workers. More concurrency still helps: 60 workers, the most measured, are 65% faster than 1; sweep higher.',
      '',
    ]);
  });

  it('says how far to trust the simulator before the table', () => {
    expect(lines).toContain(
      '**Simulator:** Checked against the replay at 3 faithful cells (fidelity at most 1.10): 1 outside the ±5% tolerance, the worst −6.5% at 60 workers and 512 MB. Treat its projected durations with care. 1 more cell was not faithful enough to check.',
    );
  });

  it('adds the projected duration and the model error to the table, bold beyond the tolerance at a faithful cell', () => {
    expect(lines.filter((l) => l.startsWith('|'))).toEqual([
      '| Memory | Workers | State | Duration | 95% CI | Projected | Cost / month | vs 1 worker | Failed requests | Peak memory | Fidelity | Model error |',
      '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      '| 512 MB | 1 | completed | 24.0 s | 22.8 s – 25.2 s | 23.7 s | $1.00 | – | 0% | 80 MB | 1.00 | +3.0% |',
      '| 512 MB | 60 | completed | 9.0 s | 8.6 s – 9.4 s | 8.2 s | $0.60 | −40% | 0% | 80 MB | 1.00 | **−6.5%** |',
      '| 512 MB | 128 | out of memory: peak memory 530 MB exceeded the 512 MB limit | | | | | | | | | |',
      '| 1024 MB | 1 | completed | 23.0 s | 21.9 s – 24.1 s | 22.9 s | $1.87 | – | 0% | 80 MB | 1.00 | +2.0% |',
      '| 1024 MB | 60 | completed **(recommended)** | 8.1 s | 7.7 s – 8.5 s | 7.6 s | $1.16 | −38% | 10% | 96 MB | **1.20** | −25.0% |',
    ]);
  });

  it('leaves all of it out for a file written before the simulator and the classifier', () => {
    for (const old of [smallSweep(), sweepResults()]) {
      const markdown = buildMarkdown(old);
      expect(markdown).not.toMatch(/\*\*Job:\*\*|\*\*Simulator:\*\*|Projected|Model error|undefined|NaN/);
      expect(markdown).toContain('| Memory | Workers | State | Duration | 95% CI | Cost / month | vs 1 worker | Failed requests | Peak memory | Fidelity |');
    }
  });

  it('shows a projection-only file with a dash where a cell lacks the field', () => {
    const partial = smallSweep({
      cells: smallSweep().cells.map((c) => (c.state === 'completed' && c.concurrency === 60 && c.memoryMb === 512 ? { ...c, projectedMs: 8200 } : c)),
    });
    const rows = buildMarkdown(partial)
      .split('\n')
      .filter((l) => l.startsWith('| 512 MB'));
    expect(rows).toEqual([
      '| 512 MB | 1 | completed | 24.0 s | 22.8 s – 25.2 s | – | $1.00 | – | 0% | 80 MB | 1.00 |',
      '| 512 MB | 60 | completed | 9.0 s | 8.6 s – 9.4 s | 8.2 s | $0.60 | −40% | 0% | 80 MB | 1.00 |',
      '| 512 MB | 128 | out of memory: peak memory 530 MB exceeded the 512 MB limit | | | | | | | | |',
    ]);
  });
});
