// Runs the echo server's offer answers one at a time, each starting in a macrotask of its own
// (setImmediate), so the HTTP requests and packets that arrive during a burst of offers are served
// between two answers instead of after all of them (docs/architecture.md "Soak and load").

/** A FIFO of async jobs: at most one runs at a time; the next starts one event-loop turn later. */
export class OfferQueue {
  private readonly jobs: Array<() => Promise<void>> = [];
  private running = false;

  /** Resolves (or rejects) with `job`'s result once every job queued before it has finished. */
  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // The queue moves on before the caller hears back, so `pending` no longer counts this job.
      this.jobs.push(() =>
        // A job that throws before its first await rejects its caller like any other failure.
        Promise.resolve().then(job).then(
          (value) => {
            this.next();
            resolve(value);
          },
          (error: unknown) => {
            this.next();
            reject(error);
          },
        ),
      );
      if (!this.running) this.next();
    });
  }

  /** Jobs not finished yet: waiting or running. */
  get pending(): number {
    return this.jobs.length + (this.running ? 1 : 0);
  }

  private next(): void {
    const job = this.jobs.shift();
    if (!job) {
      this.running = false;
      return;
    }
    this.running = true;
    setImmediate(() => void job());
  }
}
