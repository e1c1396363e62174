import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeProduction, withProduction } from '../harness/production/compare.ts';
import { comparePowerTuning } from '../harness/production/power-tuning.ts';
import { writeReport } from '../harness/report/write.ts';
import { injectionResults, PAYLOAD } from './fixtures/injection-results.ts';
import { modelledSweepResults } from './fixtures/sweep-results.ts';
import { results as resultsOf, completedCell } from './fixtures/results.ts';
import { loadScenario } from '../harness/scenario/load.ts';

/**
 * The report as a reader gets it: opened from disk in a real Chromium, offline. CI sets
 * FANOUT_REQUIRE_BROWSER=1 so a missing browser fails the build instead of skipping silently.
 */
const CHROMIUM = '/usr/bin/chromium';
const required = process.env.FANOUT_REQUIRE_BROWSER === '1';
const available = existsSync(CHROMIUM);
if (!available && !required) {
  console.warn(
    `Skipping the browser test of the HTML report: ${CHROMIUM} is not installed ` +
      '(apt-get install -y chromium; FANOUT_REQUIRE_BROWSER=1 turns this into a failure).',
  );
}

const SCREENSHOT = 'test-artifacts/report.png';

/** The seed scenario with one recommended cell at 60 workers: what the waterfall needs. */
function seedResults() {
  const scenario = loadScenario('scenarios/seed-case-study.json');
  const cell = completedCell(60, 128, 7600, { costUsd: { perInvocation: 0.00001, perMonth: 0.14 } });
  return resultsOf([cell], {
    scenario,
    recommendation: { strategy: 'cost', concurrency: 60, memoryMb: 128, architecture: 'x86_64', durationMs: 7600, costUsdPerMonth: 0.14, why: 'the only cell' },
  });
}

interface PageLog {
  problems: string[];
  requests: string[];
  dialogs: string[];
}

describe.skipIf(!available && !required)('the HTML report in Chromium', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'fanout-browser-'));
  let context: BrowserContext;
  let sweepFile: string;
  let injectionFile: string;

  beforeAll(async () => {
    if (!available) throw new Error(`FANOUT_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: install it with apt-get install -y chromium`);
    sweepFile = (await writeReport(modelledSweepResults(), { outFile: join(scratch, 'seed-case-study.html'), current: { concurrency: 60, memoryMb: 1769 } }))
      .htmlFile;
    injectionFile = (await writeReport(injectionResults(), { outFile: join(scratch, 'injection.html') })).htmlFile;
    context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
      viewport: { width: 1440, height: 1000 },
    });
  });

  afterAll(async () => {
    await context?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function open(file: string): Promise<{ page: Page; log: PageLog }> {
    const page = await context.newPage();
    const log: PageLog = { problems: [], requests: [], dialogs: [] };
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') log.problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => log.problems.push(`uncaught: ${error.message}`));
    page.on('request', (request) => log.requests.push(request.url()));
    page.on('dialog', (dialog) => {
      log.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(pathToFileURL(resolve(file)).href);
    await page.waitForSelector('body[data-charts-done]', { timeout: 30_000 });
    return { page, log };
  }

  it('draws marks in every chart, logs no error and requests nothing but the file itself', async () => {
    const { page, log } = await open(sweepFile);
    const marksPerChart = await page.$$eval('figure.chart-card', (figures) =>
      figures.map((figure) => ({
        id: figure.id,
        rendered: figure.classList.contains('rendered'),
        marks: figure.querySelectorAll('.chart svg g.role-mark > path, .chart svg g.role-mark > line, .chart svg g.role-mark > text').length,
      })),
    );
    expect(marksPerChart.map((c) => c.id)).toEqual(
      ['duration', 'cost', 'heatmap-cost', 'heatmap-duration', 'pareto', 'errors', 'memory', 'latency', 'waterfall', 'fidelity', 'projection'].map(
        (id) => `figure-${id}`,
      ),
    );
    for (const chart of marksPerChart) {
      expect(chart.rendered, chart.id).toBe(true);
      expect(chart.marks, chart.id).toBeGreaterThan(0);
    }
    expect(log.problems).toEqual([]);
    expect(log.requests.filter((url) => !url.startsWith('data:'))).toEqual([pathToFileURL(resolve(sweepFile)).href]);
    expect(await page.locator('#job h2').innerText()).toBe('Partly CPU-bound: the job waits on the network and on its own CPU');
    expect(await page.locator('#simulator h2').isVisible()).toBe(true);

    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.close();
  });

  it('shows the sentence of a cell when the pointer rests on it', async () => {
    const { page } = await open(sweepFile);
    // The framed cell of the cost heatmap: the recommendation.
    await page.locator('#chart-heatmap-cost g.role-mark path[stroke="#d62728"]').first().hover({ force: true });
    const tooltip = page.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.textContent()).toBe('1024 MB, 60 workers: 8.3 s, $1.20/month, 64% cheaper than 1 worker (recommended)');
    await page.close();
  });

  it('shows the projection of a cell when the pointer rests on its dashed line', async () => {
    const { page } = await open(sweepFile);
    const dashed = page.locator('#chart-projection g.role-mark path[stroke-dasharray="6,4"]');
    expect(await dashed.count()).toBeGreaterThan(0);
    // The last point drawn (legend symbols, also symbols, come after the marks).
    await page.locator('#chart-projection g.mark-symbol.role-mark path').last().hover({ force: true });
    const tooltip = page.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.textContent()).toMatch(
      /^3008 MB, 128 workers: projected 8\.6 s in production, 1% faster than the measured 8\.7 s \(model error \+2\.5%\)$/,
    );
    await page.close();
  });

  it("opens the waterfall and finds the seed's slowest request on the critical path", async () => {
    const seedFile = (await writeReport(seedResults(), { outFile: join(scratch, 'seed.html') })).htmlFile;
    const { page } = await open(seedFile);
    // The critical path's bars are outlined in red; the widest of them is the slowest request.
    const critical = page.locator('#chart-waterfall g.role-mark path[stroke="#d62728"]');
    expect(await critical.count()).toBeGreaterThan(0);
    const widths = await critical.evaluateAll((bars) => bars.map((bar) => bar.getBoundingClientRect().width));
    await critical.nth(widths.indexOf(Math.max(...widths))).hover({ force: true });
    const tooltip = page.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.textContent()).toMatch(/^https:\/\/archive\.example\/old\/\d+: .+, on the critical path$/);
    await page.close();
  });

  it('runs only the scripts whose hashes its policy lists: a script added to the file is refused, the charts still drawn', async () => {
    const tampered = join(scratch, 'tampered.html');
    const page = readFileSync(sweepFile, 'utf8');
    expect(page).toMatch(/script-src &#39;sha256-/);
    // Before the page's own closing tag, the last one (the libraries hold the string too).
    const end = page.lastIndexOf('</body>');
    writeFileSync(tampered, `${page.slice(0, end)}<script>document.body.setAttribute('data-injected', 'ran');</script>\n${page.slice(end)}`);
    const { page: opened, log } = await open(tampered);
    expect(await opened.getAttribute('body', 'data-injected')).toBeNull();
    expect(await opened.getAttribute('body', 'data-charts-done')).toBe('11');
    expect(await opened.$$eval('figure.chart-card.rendered', (figures) => figures.length)).toBe(11);
    expect(log.problems).toHaveLength(1);
    expect(log.problems[0]).toMatch(/^error: Executing inline script violates the following Content Security Policy directive 'script-src 'sha256-/);
    await opened.close();
  });

  it('draws production beside the prediction and Power Tuning beside the predictions, and shows their sources as text', async () => {
    const results = modelledSweepResults();
    const today = results.cells.find((cell) => cell.state === 'completed' && cell.concurrency === 60)!;
    const reports = [0.9, 0.95, 1, 1.05, 1.3].map((share, i) => ({
      requestId: `r${i}`,
      durationMs: 8000 * share,
      billedDurationMs: Math.ceil(8000 * share) + (i === 0 ? 300 : 0),
      memorySizeMb: today.memoryMb,
      maxMemoryUsedMb: 120,
      ...(i === 0 ? { initDurationMs: 300 } : {}),
    }));
    const production = summarizeProduction(reports, {
      source: PAYLOAD,
      setting: { concurrency: 60, memoryMb: today.memoryMb },
      cells: results.cells,
      scenario: results.scenario,
    });
    const rows = comparePowerTuning(
      results.cells,
      [
        { memoryMb: today.memoryMb, measuredMs: 8000 },
        { memoryMb: 10_240, measuredMs: 7000 },
      ],
      { concurrency: 60, architecture: today.architecture },
    );
    const file = (
      await writeReport(withProduction(results, production), {
        outFile: join(scratch, 'production.html'),
        powerTuning: { source: PAYLOAD, concurrency: 60, rows },
      })
    ).htmlFile;
    const { page, log } = await open(file);
    for (const id of ['production', 'power-tuning']) {
      const figure = page.locator(`#figure-${id}`);
      expect(await figure.getAttribute('class'), id).toContain('rendered');
      expect(await figure.locator('.chart svg g.role-mark > path, .chart svg g.role-mark > line').count(), id).toBeGreaterThan(0);
    }
    expect(log.problems).toEqual([]);
    expect(log.dialogs).toEqual([]);
    expect(await page.locator('#production .eyebrow').innerText()).toContain(PAYLOAD.toUpperCase().slice(0, 8));
    expect(await page.locator('#power-tuning').innerText()).toContain('not swept');
    await page.close();
  });

  it('runs nothing injected through the results file and shows it as text', async () => {
    const { page, log } = await open(injectionFile);
    expect(log.dialogs).toEqual([]);
    expect(log.problems).toEqual([]);
    expect(await page.$$eval('img:not(.chart-fallback)', (images) => images.length)).toBe(0);
    expect(await page.$$eval('script', (scripts) => scripts.length)).toBe(6);
    const text = await page.locator('main').innerText();
    expect(text).toContain(`Warning ${PAYLOAD}`);
    expect(text).toContain(`Why ${PAYLOAD}`);
    await page.locator('#chart-heatmap-cost g.role-mark path[fill="#cbd2d9"]').first().hover({ force: true });
    const tooltip = page.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.textContent()).toBe(`512 MB, 8 workers: errored (Error ${PAYLOAD})`);
    expect(log.dialogs).toEqual([]);
    await page.close();
  });
});
