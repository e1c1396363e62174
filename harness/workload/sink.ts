import { drawSinkLatency } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { sleep } from '../mock/replay-server.ts';

export interface Row {
  url: string;
  title: string;
  links: number;
}

/** Where the job writes its rows. */
export interface Sink {
  /** Resolves when the caller may go on: at once, or after the batch it completed is written. */
  write(row: Row): Promise<void>;
  /** Writes what is left in the buffer; resolves when every write has finished. */
  flush(): Promise<void>;
  readonly rowsWritten: number;
}

/**
 * An RDS-like database as a latency model (docs/job-model.md): a pool of connections, FIFO when
 * all are busy, rows written in batches, each batch holding a connection for its drawn latency.
 */
export class ModelSink implements Sink {
  private buffer: Row[] = [];
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private batches = 0;
  private written = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly scenario: Scenario,
    private readonly timeScale: number,
  ) {
    this.free = scenario.sink.poolSize;
  }

  get rowsWritten(): number {
    return this.written;
  }

  write(row: Row): Promise<void> {
    this.buffer.push(row);
    if (this.buffer.length < this.scenario.sink.batchSize) return Promise.resolve();
    return this.writeBatch();
  }

  async flush(): Promise<void> {
    if (this.buffer.length > 0) await this.writeBatch();
    await Promise.all(this.inFlight);
  }

  private writeBatch(): Promise<void> {
    const rows = this.buffer;
    this.buffer = [];
    const batchIndex = this.batches++;
    const done = this.runBatch(rows, batchIndex);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  private async runBatch(rows: Row[], batchIndex: number): Promise<void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    const latencyMs = drawSinkLatency(this.scenario, batchIndex) / this.timeScale;
    // A timer never fires sooner than 1 ms: an instant write must not wait for one.
    if (latencyMs > 0) await sleep(latencyMs);
    this.written += rows.length;
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
