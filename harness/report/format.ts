/**
 * Numbers as a reader wants them: the precision a decision needs, units spelt out, and the same
 * text wherever the same number appears (the HTML report, the Markdown summaries, the chart
 * tooltips, the recommendation's sentences, the branch comparison). The one home of these rules.
 */

/** 850 ms, 8.1 s, 123 s, 15.0 min. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 100) return `${seconds.toFixed(1)} s`;
  if (seconds < 600) return `${Math.round(seconds)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}

/**
 * Money, one rule everywhere: cents from ten cents up ($1,234.50, $0.70, $0.00); below ten cents
 * three significant digits, trailing zeros dropped ($0.0432, $0.005), because a small job's
 * monthly bill is often a few cents and two settings must still compare; under a hundredth of
 * a cent, <$0.0001.
 */
export function formatUsd(usd: number): string {
  const sign = usd < 0 ? '-' : '';
  const magnitude = Math.abs(usd);
  if (magnitude === 0) return '$0.00';
  if (magnitude < 0.0001) return `${sign}<$0.0001`;
  const threeDigits = Number(magnitude.toPrecision(3));
  // 0.09996 rounds to 0.1: shown as cents like every amount from ten cents up.
  if (threeDigits < 0.1) return `${sign}$${threeDigits}`;
  return `${sign}$${groupThousands(magnitude.toFixed(2))}`;
}

/** Milliseconds with one decimal and no unit, for comparing medians side by side: 1234.5. */
export function formatMs(ms: number): string {
  return ms.toFixed(1);
}

/** A fraction as a whole percentage: 0.384 -> "38%". */
export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/**
 * A signed fraction with one decimal, for errors and changes that can go either way:
 * 0.032 -> "+3.2%", -0.08 -> "−8.0%" (a minus sign, as in the tables), 0.0004 -> "0.0%".
 */
export function formatSignedPercent(fraction: number): string {
  const text = Math.abs(fraction * 100).toFixed(1);
  if (text === '0.0') return '0.0%';
  return `${fraction < 0 ? '−' : '+'}${text}%`;
}

/** A small rate such as an error rate keeps one decimal: 0.0123 -> "1.2%". */
export function formatRate(fraction: number): string {
  if (fraction === 0) return '0%';
  const percent = fraction * 100;
  return percent < 10 ? `${percent.toFixed(1)}%` : `${Math.round(percent)}%`;
}

export function formatCount(n: number): string {
  return groupThousands(String(Math.round(n)));
}

export function formatMb(mb: number): string {
  return `${Math.round(mb)} MB`;
}

export function workers(concurrency: number): string {
  return concurrency === 1 ? '1 worker' : `${concurrency} workers`;
}

function groupThousands(digits: string): string {
  const [whole = '', fraction] = digits.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}
