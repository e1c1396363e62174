import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isCompleted, type Decision, type Production, type Results } from '../results/schema.ts';
import { PRODUCTION_TOLERANCE } from '../production/compare.ts';
import { worstPowerTuningRow, type PowerTuningView } from '../production/power-tuning.ts';
import { costChangeVsOneWorker, reportCells, sameSetting, stateWords, type CellView, type ReportCells, type Setting } from './cell-views.ts';
import { MODEL_TOLERANCE } from '../analyze/model-check.ts';
import { buildCharts, type ReportChart } from './charts/index.ts';
import { describeHosts, describeJob, describeSink, describeRequests, totalRequests } from './describe.ts';
import { html, jsonForScript, scriptSource, trustedHtml, type SafeHtml } from './escape.ts';
import { formatCount, formatDuration, formatMb, formatPercent, formatRate, formatSignedPercent, formatUsd, workers } from './format.ts';
import { jobView, type JobView } from './job.ts';
import { modelCellText, modelColumns, settingWords, simulatorTrust, type ModelColumns, type SimulatorTrust } from './simulator.ts';
import { buildSummary, settingLabel, type Comparison, type ReportSummary } from './summary.ts';
import { FIDELITY_LIMIT, reportWarnings, type ReportWarning } from './warnings.ts';

/** The browser builds of Vega, Vega-Lite and vega-embed, inlined so the page needs no network. */
export interface LibrarySources {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
}

export interface HtmlOptions {
  libraries: LibrarySources;
  /** The setting in use today (`--current 60x1024`), to state what switching saves. */
  current?: Setting;
  /** Charts to draw; by default every chart the results allow. */
  charts?: ReportChart[];
  /**
   * The same charts as static SVG, by chart id. Shown where scripts do not run (an artifact
   * viewer with a strict policy, a mail client); replaced by the interactive chart where they do.
   */
  staticSvgs?: Readonly<Record<string, string>>;
  /** A Power Tuning run against the predictions (`--power-tuning`). */
  powerTuning?: PowerTuningView;
}

/**
 * Nothing may be fetched: scripts and styles are inline, images are data: URIs. A script runs
 * only if the sha256 of its exact text is listed, and every script of the page is fixed (the
 * libraries, the boot code), so nothing injected into the page can run, even if some escape
 * were missed. The hashes are computed here from the very strings written into the page, so
 * they cannot drift from them. Vega's expressions run through its interpreter (`ast: true`), so
 * no 'unsafe-eval' is needed. Styles stay 'unsafe-inline': vega-embed adds its tooltip's style.
 */
export function contentSecurityPolicy(inlineScripts: readonly string[]): string {
  const sources = [...new Set(inlineScripts.map(scriptHash))].map((hash) => `'${hash}'`).join(' ');
  return `default-src 'none'; script-src ${sources}; style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; form-action 'none'`;
}

/** The CSP source of an inline script: sha256 of its text as UTF-8, in base64. */
export function scriptHash(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

/** Marks the page as scripted before it paints, so the static chart pictures never flash. */
const SCRIPTED_CLASS_SCRIPT = "document.documentElement.className = 'js';";

/**
 * One self-contained HTML page: summary, what limits the job, warnings, charts, the results
 * table, how far to trust the simulator, method. The job and simulator parts appear only when
 * the results file carries them.
 */
export function buildHtml(results: Results, options: HtmlOptions): string {
  const cells = reportCells(results);
  const charts = options.charts ?? buildCharts(results, cells, options.powerTuning ? { powerTuning: options.powerTuning } : {});
  const summary = buildSummary(results, options.current);
  const warnings = reportWarnings(results);
  const { scenario } = results;
  // The exact text of each <script> element that runs, hashed for the policy below.
  const libraries = {
    vega: scriptSource(options.libraries.vega),
    vegaLite: scriptSource(options.libraries.vegaLite),
    vegaEmbed: scriptSource(options.libraries.vegaEmbed),
  };
  const policy = contentSecurityPolicy([SCRIPTED_CLASS_SCRIPT, libraries.vega, libraries.vegaLite, libraries.vegaEmbed, BOOT_SCRIPT]);
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fanout-tuner ${results.tool.version}">
<title>${scenario.name}: fanout-tuner report</title>
<style>${trustedHtml(STYLE)}</style>
<script>${trustedHtml(SCRIPTED_CLASS_SCRIPT)}</script>
</head>
<body>
<header class="page-header">
  <p class="eyebrow">fanout-tuner report</p>
  <h1>${scenario.name}</h1>
  ${scenario.description ? html`<p class="lead">${scenario.description}</p>` : ''}
  <p class="meta">${formatCount(results.cells.length)} cells · ${repetitionWords(results.method)} · ${formatCount(totalRequests(scenario))} requests per invocation · ${formatCount(scenario.lambda.invocationsPerMonth)} invocations a month · ${scenario.lambda.architecture}, ${scenario.lambda.region}</p>
</header>
<main>
${summaryCard(summary, scenario.lambda.invocationsPerMonth)}
${jobSection(jobView(results.classification))}
${productionSection(results.production)}
${powerTuningSection(options.powerTuning)}
${warningsSection(warnings)}
${chartsSection(charts, options.staticSvgs ?? {})}
${resultsTable(cells, options.current, modelColumns(results), results.method.timeScale)}
${simulatorSection(simulatorTrust(results))}
${methodSection(results)}
</main>
<footer>Generated by fanout-tuner ${results.tool.version} from results of commit ${results.env.commit} (${results.env.branch}), sweep started ${results.startedAt}${results.finishedAt ? html`, finished ${results.finishedAt}` : ' and not finished'}. Scenario ${results.scenarioHash}.</footer>
<script type="application/json" id="fanout-chart-specs">${trustedHtml(jsonForScript(charts.map(({ id, spec }) => ({ id, spec }))))}</script>
<script>${trustedHtml(libraries.vega)}</script>
<script>${trustedHtml(libraries.vegaLite)}</script>
<script>${trustedHtml(libraries.vegaEmbed)}</script>
<script>${trustedHtml(BOOT_SCRIPT)}</script>
</body>
</html>
`;
  return page.value;
}

function comparisonTile(title: string, comparison: Comparison | string | undefined): SafeHtml | string {
  if (comparison === undefined) return '';
  if (typeof comparison === 'string') {
    return html`<div class="tile"><dt>${title}</dt><dd class="note">${comparison}</dd></div>`;
  }
  const cheaper = comparison.cheaperBy;
  const headline =
    Math.round(cheaper * 100) === 0 ? 'same cost' : cheaper > 0 ? `${formatPercent(cheaper)} cheaper` : `${formatPercent(-cheaper)} more expensive`;
  return html`<div class="tile ${cheaper > 0 ? 'good' : cheaper < 0 ? 'bad' : ''}"><dt>${title}</dt><dd class="value">${headline}</dd><dd class="note">${capitalize(comparison.sentence)}.</dd><dd class="note">${capitalize(comparison.than)}: ${formatDuration(comparison.durationMs)}, ${formatUsd(comparison.costUsdPerMonth)}/month.</dd></div>`;
}

function summaryCard(summary: ReportSummary, invocationsPerMonth: number): SafeHtml {
  const pick = summary.recommendation;
  if (!pick) {
    return html`<section class="card summary none" id="summary"><p class="eyebrow">Recommendation</p><h2>${summary.headline}</h2><p>Run <code>npm run recommend</code> on this results file, or relax its constraints.</p></section>`;
  }
  const vsCurrentTitle = summary.vsCurrent && typeof summary.vsCurrent !== 'string' ? `vs ${summary.vsCurrent.than}` : 'vs your current setting';
  return html`<section class="card summary" id="summary">
  <div class="pick">
    <p class="eyebrow">Recommended · strategy: ${pick.strategy}</p>
    <h2>${settingLabel(pick)} <span class="arch">${pick.architecture}</span></h2>
    <p class="why">${pick.why}</p>
  </div>
  <dl class="tiles">
    <div class="tile"><dt>Duration per invocation</dt><dd class="value">${formatDuration(pick.durationMs)}</dd><dd class="note">median of the repetitions</dd></div>
    <div class="tile"><dt>Cost per month</dt><dd class="value">${formatUsd(pick.costUsdPerMonth)}</dd><dd class="note">${formatCount(invocationsPerMonth)} invocations</dd></div>
    ${comparisonTile(summary.vsOneWorker ? `vs ${summary.vsOneWorker.than}` : 'vs 1 worker', summary.vsOneWorker ?? 'No completed run at 1 worker with this memory size to compare with.')}
    ${comparisonTile(vsCurrentTitle, summary.vsCurrent)}
    ${decisionTile(pick.decision)}
  </dl>
</section>`;
}

const DECISION_WORDS: Record<Decision['outcome'], string> = { separated: 'Clear winner', equivalent: 'Equivalent set', undecided: 'Undecided' };

/** How sure the pick is: the race's outcome, and who it was raced against (harness/analyze/race.ts). */
function decisionTile(decision: Decision | undefined): SafeHtml | string {
  if (!decision) return '';
  const setting = (key: { concurrency: number; memoryMb: number }) => `${workers(key.concurrency)} at ${key.memoryMb} MB`;
  const note =
    decision.outcome === 'equivalent' && decision.equivalentSet
      ? `Within ${formatPercent(decision.equivalence)} of each other: ${decision.equivalentSet.map(setting).join(', ')}.`
      : decision.compared.length === 0
        ? 'No other setting came close enough to race.'
        : `Raced against ${decision.compared.map((rival) => `${setting(rival)} (${rival.verdict === 'open' ? 'still open' : rival.verdict})`).join(', ')}.`;
  return html`<div class="tile ${decision.outcome === 'undecided' ? 'bad' : ''}"><dt>How sure</dt><dd class="value">${DECISION_WORDS[decision.outcome]}</dd><dd class="note">${note}</dd><dd class="note">${decision.winnerReps} repetitions of the pick.</dd></div>`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function jobSection(job: JobView | undefined): SafeHtml | string {
  if (!job) return '';
  return html`<section class="card job kind-${job.kind}" id="job">
  <p class="eyebrow">What limits the job · at ${job.where}</p>
  <h2>${job.headline}</h2>
  <dl class="tiles">
    ${job.figures.map(
      (figure) =>
        html`<div class="tile${figure.helps === true ? ' good' : ''}"><dt>${figure.label}</dt><dd class="value">${figure.value}</dd><dd class="note">${figure.note}</dd></div>\n    `,
    )}
  </dl>
  <p class="advice">${job.advice}</p>
</section>`;
}

function productionSection(production: Production | undefined): SafeHtml | string {
  if (!production) return '';
  const off = production.error !== undefined && Math.abs(production.error) > PRODUCTION_TOLERANCE;
  return html`<section class="card production ${production.error === undefined || off ? 'outside' : 'within'}" id="production">
  <p class="eyebrow">Production · ${production.source}</p>
  <h2>Today, ${settingLabel(production)}: ${formatDuration(production.durationMs.median)} in production${production.predictedMs !== undefined ? html`, ${formatDuration(production.predictedMs)} predicted` : ''}</h2>
  <dl class="tiles">
    <div class="tile"><dt>Production median</dt><dd class="value">${formatDuration(production.durationMs.median)}</dd><dd class="note">p95 ${formatDuration(production.durationMs.p95)} over ${formatCount(production.invocations)} invocations</dd></div>
    ${
      production.predictedMs !== undefined && production.error !== undefined
        ? html`<div class="tile ${off ? 'bad' : 'good'}"><dt>Prediction error</dt><dd class="value">${formatSignedPercent(production.error)}</dd><dd class="note">sweep ${formatDuration(production.predictedMs)}; tolerance ±${formatPercent(PRODUCTION_TOLERANCE)}</dd></div>`
        : html`<div class="tile bad"><dt>Prediction</dt><dd class="value">none</dd><dd class="note">today's setting did not complete in the sweep</dd></div>`
    }
    <div class="tile"><dt>Cold starts</dt><dd class="value">${formatPercent(production.coldStartRate)}</dd><dd class="note">${production.initDurationMs !== undefined ? `INIT ${formatDuration(production.initDurationMs)} on average, billed` : 'no INIT in these logs'}</dd></div>
    <div class="tile"><dt>Today's bill</dt><dd class="value">${formatUsd(production.costUsd.perMonth)}</dd><dd class="note">per month, from ${formatDuration(production.billedMs)} billed per invocation${production.maxMemoryUsedMb !== undefined ? `; peak ${formatMb(production.maxMemoryUsedMb)} used` : ''}</dd></div>
  </dl>
</section>`;
}

function powerTuningSection(view: PowerTuningView | undefined): SafeHtml | string {
  if (!view) return '';
  const worst = worstPowerTuningRow(view.rows);
  const off = worst !== undefined && Math.abs(worst.error) > PRODUCTION_TOLERANCE;
  return html`<section class="card production ${worst === undefined || off ? 'outside' : 'within'}" id="power-tuning">
  <p class="eyebrow">AWS Lambda Power Tuning · ${view.source}</p>
  <h2>Measured on AWS against the prediction at ${workers(view.concurrency)}${worst ? html`: worst error ${formatSignedPercent(worst.error)} at ${worst.memoryMb} MB` : ''}</h2>
  <p class="note">Power Tuning's duration is the mean of its invocations with the fastest and slowest 20% left out; the prediction is the sweep's median at the same memory size and concurrency. Error = predicted / measured − 1, flagged beyond ±${formatPercent(PRODUCTION_TOLERANCE)}.</p>
  <div class="table-scroll">
  <table>
    <thead><tr><th class="num">Memory</th><th class="num">Measured</th><th class="num">Predicted</th><th class="num">Error</th></tr></thead>
    <tbody>${view.rows.map(
      (row) =>
        html`<tr><td class="num">${row.memoryMb} MB</td><td class="num">${formatDuration(row.measuredMs)}</td><td class="num">${row.predictedMs === null ? 'not swept' : formatDuration(row.predictedMs)}</td><td class="${row.error !== null && Math.abs(row.error) > PRODUCTION_TOLERANCE ? 'num flag' : 'num'}">${row.error === null ? '–' : formatSignedPercent(row.error)}</td></tr>`,
    )}</tbody>
  </table>
  </div>
</section>`;
}

function simulatorSection(trust: SimulatorTrust | undefined): SafeHtml | string {
  if (!trust) return '';
  const worst = trust.worst;
  const allWithin = worst !== undefined && trust.withinTolerance === trust.checks.length;
  return html`<section class="card simulator ${worst === undefined ? 'unchecked' : allWithin ? 'within' : 'outside'}" id="simulator">
  <h2>How far to trust the simulator</h2>
  <dl class="tiles">
    <div class="tile"><dt>Faithful cells checked</dt><dd class="value">${trust.checks.length}</dd><dd class="note">${trust.unchecked ? `${trust.unchecked} more not faithful enough to check` : 'every modelled cell'}</dd></div>
    ${
      worst
        ? html`<div class="tile ${Math.abs(worst.modelError) > trust.tolerance ? 'bad' : 'good'}"><dt>Worst model error</dt><dd class="value">${formatSignedPercent(worst.modelError)}</dd><dd class="note">at ${settingWords(worst)}</dd></div>`
        : ''
    }
    <div class="tile"><dt>Tolerance</dt><dd class="value">±${formatPercent(trust.tolerance)}</dd><dd class="note">${worst ? `${trust.withinTolerance} of ${trust.checks.length} within` : 'nothing checked'}</dd></div>
  </dl>
  <p>${trust.sentence}</p>
  <p class="note">The model error is the simulator's makespan of the replay as it ran over the measured median, minus 1. A cell is faithful when its fidelity ratio is at most ${FIDELITY_LIMIT.toFixed(2)}: there the replay measured the job, not the harness, so the two should agree.</p>
</section>`;
}

const WARNING_LABELS: Record<ReportWarning['kind'], string> = {
  sweep: 'sweep',
  fidelity: 'fidelity',
  outlier: 'outlier',
  oom: 'out of memory',
  errored: 'errored',
  timeout: 'timeout',
};

function warningsSection(warnings: readonly ReportWarning[]): SafeHtml {
  if (warnings.length === 0) {
    return html`<section class="card warnings clear" id="warnings"><h2>Warnings</h2><p>None: every cell completed, repetitions agree and the harness kept up with the job.</p></section>`;
  }
  return html`<section class="card warnings" id="warnings">
  <h2>Warnings <span class="count">${warnings.length}</span></h2>
  <ul>
    ${warnings.map((w) => html`<li class="warning kind-${w.kind}"><span class="badge">${WARNING_LABELS[w.kind]}</span> ${w.message}</li>\n    `)}
  </ul>
</section>`;
}

function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

function chartsSection(charts: readonly ReportChart[], staticSvgs: Readonly<Record<string, string>>): SafeHtml {
  if (charts.length === 0) {
    return html`<section class="card" id="charts"><h2>Charts</h2><p>No cell completed, so there is nothing to plot.</p></section>`;
  }
  return html`<section id="charts">
  <h2 class="section-title">Charts</h2>
  <noscript><p class="note">JavaScript is off: the charts below are static pictures without tooltips.</p></noscript>
  <div class="chart-grid">
    ${charts.map((chart) => {
      const svg = staticSvgs[chart.id];
      return html`<figure class="card chart-card" id="figure-${chart.id}">
      <div class="chart" id="chart-${chart.id}" data-chart="${chart.id}"></div>
      ${svg ? html`<img class="chart-fallback" alt="${chart.title}" src="${svgDataUri(svg)}">` : ''}
      <figcaption>${chart.caption}</figcaption>
    </figure>
    `;
    })}
  </div>
</section>`;
}

function resultRow(view: CellView, current: Setting | undefined, firstOfSeries: boolean, columns: ModelColumns): SafeHtml {
  const { cell, series, baseline, recommended } = view;
  const isCurrent = current !== undefined && sameSetting(cell, current);
  const marks = [recommended ? html`<span class="tag pick">recommended</span>` : '', isCurrent ? html`<span class="tag current">current</span>` : ''];
  const classes = [recommended ? 'pick' : '', isCurrent ? 'current' : '', cell.state !== 'completed' ? 'failed' : '', firstOfSeries ? 'group-start' : '']
    .filter(Boolean)
    .join(' ');
  const head = html`<td>${series}</td><td class="num">${cell.concurrency}</td>`;
  if (!isCompleted(cell)) {
    return html`<tr class="${classes}">${head}<td><span class="state state-${cell.state}">${stateWords(cell)}</span> ${marks}</td><td colspan="${8 + modelColumnCount(columns)}" class="error-text">${cell.error}</td></tr>`;
  }
  const fidelityClass = cell.fidelityRatio > FIDELITY_LIMIT ? 'num flag' : 'num';
  const model = modelCellText(cell);
  return html`<tr class="${classes}">${head}<td>completed ${marks}</td><td class="num">${formatDuration(cell.durationMs.median)}</td><td class="num">${formatDuration(cell.durationMs.ci95[0])} – ${formatDuration(cell.durationMs.ci95[1])}</td>${columns.projected ? html`<td class="num">${model.projected}</td>` : ''}<td class="num">${formatUsd(cell.costUsd.perMonth)}</td><td class="num">${costChangeVsOneWorker(cell, baseline)}</td><td class="num">${formatRate(cell.errorRate)}</td><td class="num">${formatMb(cell.peakRssMb)}</td><td class="${fidelityClass}">${cell.fidelityRatio.toFixed(2)}</td>${columns.modelError ? html`<td class="${model.modelErrorOff ? 'num flag' : 'num'}">${model.modelError}</td>` : ''}${columns.timeScaleCorrection ? html`<td class="num">${model.timeScaleCorrection}</td>` : ''}<td class="num">${formatDuration(cell.requestLatencyMs.p95)}</td></tr>`;
}

function modelColumnCount(columns: ModelColumns): number {
  return [columns.projected, columns.modelError, columns.timeScaleCorrection].filter(Boolean).length;
}

/** What the simulator's columns mean, for the note above the table. */
function modelColumnNotes(columns: ModelColumns, timeScale: number): string {
  const notes = [
    columns.projected
      ? "“Projected” is the simulator's duration in production: the mock's own CPU left out, the CPU at the memory size's share of a core."
      : '',
    columns.modelError
      ? `“Model error” is the simulator's makespan of the replay as it ran over the measured median (before any time-scale correction), minus 1; flagged beyond ±${formatPercent(MODEL_TOLERANCE)} where fidelity is at most ${FIDELITY_LIMIT.toFixed(2)}.`
      : '',
    columns.timeScaleCorrection
      ? `“Time-scale correction” is what the sweep changed each duration by: latencies ran ${timeScale}× shorter but CPU work did not, and the simulator's estimate of the time that added is already subtracted.`
      : '',
  ];
  return notes.filter(Boolean).join(' ');
}

function resultsTable(cells: ReportCells, current: Setting | undefined, columns: ModelColumns, timeScale: number): SafeHtml {
  const modelNotes = modelColumnNotes(columns, timeScale);
  return html`<section class="card" id="results">
  <h2>Results</h2>
  <p class="note">Duration is the median per invocation; the interval is the 95% confidence interval of the mean. “vs 1 worker” is the change in monthly cost against concurrency 1 at the same memory size. Fidelity above ${FIDELITY_LIMIT.toFixed(2)} is flagged.${modelNotes ? ` ${modelNotes}` : ''}</p>
  <div class="table-scroll">
  <table>
    <thead><tr><th>Memory</th><th class="num">Workers</th><th>State</th><th class="num">Duration</th><th class="num">95% CI</th>${columns.projected ? html`<th class="num">Projected</th>` : ''}<th class="num">Cost / month</th><th class="num">vs 1 worker</th><th class="num">Failed requests</th><th class="num">Peak memory</th><th class="num">Fidelity</th>${columns.modelError ? html`<th class="num">Model error</th>` : ''}${columns.timeScaleCorrection ? html`<th class="num">Time-scale correction</th>` : ''}<th class="num">Request p95</th></tr></thead>
    <tbody>
    ${cells.views.map((view, i) => html`${resultRow(view, current, i > 0 && cells.views[i - 1]!.series !== view.series, columns)}\n    `)}
    </tbody>
  </table>
  </div>
</section>`;
}

function methodSection(results: Results): SafeHtml {
  const { scenario, method, env } = results;
  const hosts = describeHosts(scenario);
  return html`<section class="card method" id="method">
  <h2>Method and environment</h2>
  <div class="columns">
    <div>
      <h3>How it was measured</h3>
      <dl class="facts">
        <dt>Mock backend</dt><dd>${method.backend === 'net' ? 'net: real HTTP/TLS servers on loopback' : method.backend}</dd>
        ${method.isolation ? html`<dt>Isolation</dt><dd>${method.isolation === 'namespace' ? 'each cell in its own network namespace' : 'none: only HTTP clients are fenced'}</dd>` : ''}
        ${method.loopback ? html`<dt>Loopback round trip</dt><dd>${method.loopback.wallUsPerRoundTrip} µs wall, ${method.loopback.cpuUsPerRoundTrip} µs CPU</dd>` : ''}
        <dt>Memory sizes</dt><dd>${method.cpuThrottle === 'cgroup' ? 'real CPU quota (cgroup)' : method.cpuThrottle === 'model' ? 'CPU share modelled' : 'not applied: one speed for every size'}</dd>
        <dt>Time scale</dt><dd>${method.timeScale === 1 ? 'real time' : `latencies ${method.timeScale}× shorter, durations scaled back`}</dd>
        <dt>Repetitions</dt><dd>${method.reps} per cell, after ${method.warmupInvocations} warm-up invocation${method.warmupInvocations === 1 ? '' : 's'}</dd>
        <dt>Grid</dt><dd>concurrency ${scenario.sweep.concurrency.join(', ')}; memory ${scenario.sweep.memoryMb.join(', ')} MB</dd>
      </dl>
      ${method.notes.length ? html`<ul class="notes">${method.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
    </div>
    <div>
      <h3>Environment</h3>
      <dl class="facts">
        <dt>Tool</dt><dd>${results.tool.name} ${results.tool.version}</dd>
        <dt>Commit</dt><dd><code>${env.commit}</code> on ${env.branch}</dd>
        <dt>Node.js</dt><dd>${env.node} on ${env.platform}, ${env.cpus} CPU${env.cpus === 1 ? '' : 's'}</dd>
        <dt>Sweep</dt><dd>${results.startedAt}${results.finishedAt ? html` to ${results.finishedAt}` : ' (not finished)'}</dd>
        <dt>Scenario hash</dt><dd><code class="hash">${results.scenarioHash}</code></dd>
      </dl>
    </div>
  </div>
  <h3>Scenario</h3>
  <dl class="facts">
    <dt>Requests</dt><dd><ul class="plain">${describeRequests(scenario).map((r) => html`<li>${r}</li>`)}</ul></dd>
    <dt>Work per response</dt><dd>parse ${scenario.work.parse}${scenario.work.threads ? ` on ${scenario.work.threads} threads` : ' on the main thread'}</dd>
    <dt>Job</dt><dd>${describeJob(scenario)}</dd>
    <dt>Database sink</dt><dd>${describeSink(scenario.sink)}</dd>
    <dt>Client</dt><dd>timeout ${formatDuration(scenario.client.timeoutMs)}, ${scenario.client.retries} retr${scenario.client.retries === 1 ? 'y' : 'ies'}, backoff from ${scenario.client.backoffMs} ms</dd>
    <dt>Lambda</dt><dd>${scenario.lambda.architecture} in ${scenario.lambda.region}, timeout ${scenario.lambda.timeoutS} s, seed ${scenario.seed}</dd>
  </dl>
  <div class="table-scroll">
  <table class="hosts">
    <thead><tr><th>Host</th><th>Latency</th><th>Capacity</th><th>Rate limit</th><th>Faults</th></tr></thead>
    <tbody>${hosts.map((h) => html`<tr><td>${h.host}</td><td>${h.latency}</td><td>${h.capacity}</td><td>${h.rateLimit}</td><td>${h.faults}</td></tr>`)}</tbody>
  </table>
  </div>
</section>`;
}

/**
 * Draws every chart with vega-embed. `ast: true` makes Vega interpret expressions instead of
 * compiling them with `new Function`, which the page's policy forbids. A chart that fails keeps
 * its static picture and says why in the console (the browser test fails on console errors).
 */
const BOOT_SCRIPT = pageFile('boot.js');

const STYLE = pageFile('style.css');

/** How many repetitions the cells got: a fixed count, or a race's screening and the contenders' more. */
function repetitionWords(method: Results['method']): string {
  const each = `${method.reps} repetition${method.reps === 1 ? '' : 's'}`;
  return method.race ? `${each} per cell to screen, more for the contenders` : `${each} each`;
}

/** The page's fixed style and boot script, kept as files of their own so editors and linters read them as CSS and JavaScript. */
function pageFile(name: string): string {
  return readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');
}
