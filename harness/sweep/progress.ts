import cliProgress from 'cli-progress';

/** Progress of a long sweep: a bar with ETA on a terminal, one plain line per cell elsewhere (CI logs). */
export interface Progress {
  start(total: number): void;
  cellStarted(label: string): void;
  cellFinished(label: string, outcome: string): void;
  /** A race round: `cells` more cells to measure, and why, in words. */
  addRound(cells: number, note: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream);
}

class BarProgress implements Progress {
  private readonly bar: cliProgress.SingleBar;
  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: ' {bar} {value}/{total} cells | ETA {eta_formatted} | {cell}',
        etaBuffer: 5,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }
  start(total: number): void {
    this.bar.start(total, 0, { cell: 'starting' });
  }
  cellStarted(label: string): void {
    this.bar.update({ cell: `running ${label}` });
  }
  cellFinished(label: string, outcome: string): void {
    this.bar.increment(1, { cell: `${label}: ${outcome}` });
  }
  addRound(cells: number, note: string): void {
    this.bar.setTotal(this.bar.getTotal() + cells);
    this.bar.update({ cell: note });
  }
  stop(): void {
    this.bar.stop();
  }
}

class LineProgress implements Progress {
  private total = 0;
  private done = 0;
  private startedAt = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  start(total: number): void {
    this.total = total;
    this.startedAt = performance.now();
    this.stream.write(`sweeping ${total} cells\n`);
  }
  cellStarted(): void {}
  cellFinished(label: string, outcome: string): void {
    this.done++;
    const elapsed = performance.now() - this.startedAt;
    const etaS = Math.round(((elapsed / this.done) * (this.total - this.done)) / 1000);
    this.stream.write(`[${this.done}/${this.total}] ${label}: ${outcome} (ETA ${etaS} s)\n`);
  }
  addRound(cells: number, note: string): void {
    this.total += cells;
    this.stream.write(`${note}\n`);
  }
  stop(): void {}
}
