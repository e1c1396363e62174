import { drawSinkLatency } from '../scenario/plan.ts';
import type { Scenario } from '../scenario/schema.ts';
import { setTimeout as sleep } from 'node:timers/promises';

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
 * Buffers rows and writes them in batches of `batchSize` (docs/job-model.md): the writer whose row
 * fills a batch waits for that batch; `flush` writes the rest and waits for everything in flight.
 * Subclasses say how one batch is written.
 */
export abstract class BatchingSink implements Sink {
  private buffer: Row[] = [];
  private batches = 0;
  private written = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly batchSize: number) {}

  /** Writes one batch; `batchIndex` counts batches in the order they were formed. */
  protected abstract writeRows(rows: Row[], batchIndex: number): Promise<void>;

  get rowsWritten(): number {
    return this.written;
  }

  write(row: Row): Promise<void> {
    this.buffer.push(row);
    if (this.buffer.length < this.batchSize) return Promise.resolve();
    return this.writeBatch();
  }

  async flush(): Promise<void> {
    if (this.buffer.length > 0) await this.writeBatch();
    await Promise.all(this.inFlight);
  }

  private writeBatch(): Promise<void> {
    const rows = this.buffer;
    this.buffer = [];
    const done = this.writeRows(rows, this.batches++).then(() => {
      this.written += rows.length;
    });
    this.inFlight.add(done);
    // The caller of write() or flush() sees a failure; the set only tracks what is still running.
    done.then(
      () => this.inFlight.delete(done),
      () => this.inFlight.delete(done),
    );
    return done;
  }
}

/**
 * An RDS-like database as a latency model (docs/job-model.md): a pool of connections, FIFO when
 * all are busy, each batch holding a connection for its drawn latency.
 */
export class ModelSink extends BatchingSink {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly timeScale: number,
  ) {
    super(scenario.sink.batchSize);
    this.free = scenario.sink.poolSize;
  }

  protected async writeRows(_rows: Row[], batchIndex: number): Promise<void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    const latencyMs = drawSinkLatency(this.scenario, batchIndex) / this.timeScale;
    // A timer never fires sooner than 1 ms: an instant write must not wait for one.
    if (latencyMs > 0) await sleep(latencyMs);
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
