import type { ErrorsByKind } from '../results/schema.ts';
import type { ServeOutcome } from './replay-server.ts';

/** How one attempt ended, as the server saw it. */
export type AttemptOutcome = 'ok' | keyof ErrorsByKind;

/**
 * The requests of one invocation as the mock served them, in the shape the built-in scraper
 * reports its own. A user's handler reports nothing, so its cells are measured from this side.
 */
export interface ServedCounts {
  /** Distinct requests (URLs) sent. */
  requests: number;
  /** Requests whose last attempt failed. */
  errors: number;
  /** Attempts beyond the first of each request. */
  retries: number;
  /** Every failed attempt, by kind. */
  errorsByKind: ErrorsByKind;
  /** Per request, from its first arrival to its last outcome, in scenario (unscaled) ms. */
  requestLatenciesMs: number[];
}

export function attemptOutcome(outcome: Exclude<ServeOutcome, { kind: 'unmocked' }>): AttemptOutcome {
  switch (outcome.kind) {
    case 'ok':
      return 'ok';
    case 'status':
      if (outcome.status === 429) return 'http429';
      return outcome.status >= 500 ? 'http5xx' : 'other';
    case 'reset':
      return 'reset';
    case 'no-answer':
      return 'timeout';
  }
}

interface RequestRecord {
  firstSentAt: number;
  lastOutcome: AttemptOutcome;
  lastOutcomeAt: number;
}

/** Counts attempts per URL; one instance per invocation. Times in scaled (wall) ms. */
export class ServedTally {
  private readonly byUrl = new Map<string, RequestRecord>();
  private attempts = 0;
  private readonly errorsByKind: ErrorsByKind = { http5xx: 0, http429: 0, timeout: 0, reset: 0, other: 0 };

  constructor(private readonly timeScale: number) {}

  record(url: string, outcome: AttemptOutcome, sentAt: number, outcomeAt: number): void {
    this.attempts++;
    if (outcome !== 'ok') this.errorsByKind[outcome]++;
    const known = this.byUrl.get(url);
    if (!known) {
      this.byUrl.set(url, { firstSentAt: sentAt, lastOutcome: outcome, lastOutcomeAt: outcomeAt });
    } else if (outcomeAt >= known.lastOutcomeAt) {
      known.lastOutcome = outcome;
      known.lastOutcomeAt = outcomeAt;
    }
  }

  /** The URLs served, in the order their first attempt arrived: the order the job issued them. */
  order(): string[] {
    return [...this.byUrl].sort((a, b) => a[1].firstSentAt - b[1].firstSentAt).map(([url]) => url);
  }

  counts(): ServedCounts {
    const records = [...this.byUrl.values()];
    return {
      requests: records.length,
      errors: records.filter((r) => r.lastOutcome !== 'ok').length,
      retries: this.attempts - records.length,
      errorsByKind: { ...this.errorsByKind },
      requestLatenciesMs: records.map((r) => (r.lastOutcomeAt - r.firstSentAt) * this.timeScale),
    };
  }
}
