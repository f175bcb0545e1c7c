/**
 * What a chaos run must undo, for the runner outside node:test: the same
 * `after(fn)` the test helpers take from a test context, run last-in
 * first-out by run(), also on Ctrl-C. Each step's failure is reported and
 * the next step runs anyway.
 */
export class Cleanup {
  private readonly steps: (() => unknown)[] = [];

  after(fn: () => unknown): void {
    this.steps.push(fn);
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        process.stderr.write(`cleanup step failed: ${(err as Error).message}\n`);
      }
    }
  }
}
