import { DomUtils, parseDocument } from 'htmlparser2';
import type { Element } from 'domhandler';
import { describe, expect, it } from 'vitest';
import { buildCharts } from '../harness/report/charts/index.ts';
import { escapeHtml, escapeMarkdown } from '../harness/report/escape.ts';
import { buildHtml } from '../harness/report/html.ts';
import { buildMarkdown } from '../harness/report/markdown.ts';
import { renderSvg } from '../harness/report/svg.ts';
import { resultsSchema } from '../harness/results/schema.ts';
import { injectionResults, PAYLOAD } from './fixtures/injection-results.ts';

const results = injectionResults();
const libraries = { vega: '/* vega */', vegaLite: '/* vega-lite */', vegaEmbed: '/* vega-embed */' };

/** Elements that run code or load something, and event-handler attributes anywhere. */
function activeContent(root: ReturnType<typeof parseDocument>): string[] {
  return DomUtils.findAll(() => true, root.children).flatMap((el: Element) => [
    ...(['script', 'img', 'iframe', 'object', 'embed', 'foreignobject'].includes(el.name.toLowerCase()) ? [el.name] : []),
    ...Object.keys(el.attribs)
      .filter((name) => name.toLowerCase().startsWith('on'))
      .map((name) => `${el.name}[${name}]`),
  ]);
}

describe('strings from a results file cannot inject markup', () => {
  it('the payload is valid results content', () => {
    expect(resultsSchema.safeParse(results).success).toBe(true);
  });

  it('in HTML: every copy is escaped text, and only the report’s own scripts exist', () => {
    const page = buildHtml(results, { libraries });
    const document = parseDocument(page);
    expect(activeContent(document)).toEqual(['script', 'script', 'script', 'script', 'script', 'script']);
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>alert(1)');
    // description, URL, warning, error (warning and table), why, advice, note, branch (method and footer)
    expect(page.split(escapeHtml(PAYLOAD)).length - 1).toBe(10);
    const text = DomUtils.textContent(DomUtils.getElementsByTagName('main', document)[0]!);
    expect(text).toContain(`Warning ${PAYLOAD}`);
    expect(text).toContain(`Why ${PAYLOAD}`);
    expect(text).toContain(`Advice ${PAYLOAD}`);
    expect(text).toContain(`https://a.example/${PAYLOAD}`);
  });

  it('in HTML: the chart data keeps the payload as data, with no `<` left in the script element', () => {
    const document = parseDocument(buildHtml(results, { libraries }));
    const json = DomUtils.textContent(DomUtils.getElementById('fanout-chart-specs', document)!);
    expect(json).not.toContain('<');
    expect(json).not.toContain('>');
    expect(json).toContain('Error \\u003cscript\\u003ealert(1)\\u003c/script\\u003e');
    const heatmap = (JSON.parse(json) as Array<{ id: string; spec: { data: { values: Array<{ tooltip: string }> } } }>).find((c) => c.id === 'heatmap-cost')!;
    expect(heatmap.spec.data.values.map((row) => row.tooltip)).toContain(`512 MB, 8 workers: errored (Error ${PAYLOAD})`);
  });

  it('in SVG: the error message is an escaped attribute value, never an element', async () => {
    const charts = buildCharts(results);
    const svgs = await Promise.all(charts.map((c) => renderSvg(c.spec)));
    for (const svg of svgs) {
      expect(activeContent(parseDocument(svg, { xmlMode: true }))).toEqual([]);
      expect(svg).not.toContain('<script');
      expect(svg).not.toContain('<img');
    }
    const heatmap = parseDocument(svgs[charts.findIndex((c) => c.id === 'heatmap-cost')]!, { xmlMode: true });
    const labels = DomUtils.findAll((el) => (el.attribs['aria-label'] ?? '').includes('errored'), heatmap.children).map((el) => el.attribs['aria-label']);
    expect(labels.length).toBeGreaterThan(0);
    expect(labels[0]).toContain(`512 MB, 8 workers: errored (Error ${PAYLOAD})`);
  });

  it('in Markdown: no raw markup, no extra table columns, the payload shown literally', () => {
    const markdown = buildMarkdown(results);
    expect(markdown).not.toMatch(/<script|<img|<\/script/);
    expect(markdown).toContain(`Description ${escapeMarkdown(PAYLOAD)}`);
    expect(markdown).toContain(`- Why: Why ${escapeMarkdown(PAYLOAD)}`);
    expect(markdown).toContain(`- Warning ${escapeMarkdown(PAYLOAD)}`);
    expect(markdown).toContain(`**Job:** Advice ${escapeMarkdown(PAYLOAD)}\n`);
    expect(escapeMarkdown(PAYLOAD)).toBe(
      '&lt;script&gt;alert(1)&lt;/script&gt; "&gt;&lt;img src=x onerror=alert(1)&gt; &lt;/script&gt; \\| \\`code\\` \\*bold\\* @\u200dteam',
    );
    const rows = markdown.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.map((r) => r.split(/(?<!\\)\|/).length)).toEqual([12, 12, 12, 12]);
    expect(rows[3]).toBe(`| 512 MB | 8 | errored: Error ${escapeMarkdown(PAYLOAD)} | | | | | | | |`);
  });
});
