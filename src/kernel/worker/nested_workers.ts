/**
 * Web Workers that cells start, tracked so that each ends with its cell. A Worker left running
 * lives outside every cell's timeout and takes CPU from every kernel on the machine (measured: a
 * spinning nested Worker kept 154% CPU and a bystander kernel fell from 434 to 100 cells/s).
 *
 * Covered: `new Worker(…)` and subclasses, and `Worker.prototype.constructor`. Not covered:
 * `node:worker_threads`, whose Worker Deno builds without the global; a cell's own timeout does
 * not stop those either.
 *
 * @module
 */

/** The Workers started since the last {@linkcode WorkerTracker.stopStarted}. */
export interface WorkerTracker {
  /** Terminates every tracked Worker not terminated already; returns how many it ended. */
  stopStarted(): number;
}

/**
 * Replaces the global `Worker` with one that records each Worker made. Call once, before user
 * code runs; the replacement cannot be undone by a cell.
 */
export function trackWorkers(): WorkerTracker {
  const Original = globalThis.Worker;
  const terminate = Original.prototype.terminate;
  const live = new Set<Worker>();
  const Tracked: typeof Worker = new Proxy(Original, {
    construct(target, args, newTarget) {
      // A subclass of the global Worker arrives here with its own newTarget.
      const worker = Reflect.construct(target, args, newTarget === Tracked ? target : newTarget);
      live.add(worker);
      return worker;
    },
  });
  Object.defineProperty(Original.prototype, "terminate", {
    value: function (this: Worker) {
      live.delete(this);
      terminate.call(this);
    },
    writable: false,
    configurable: false,
  });
  const places: [object, string][] = [[globalThis, "Worker"], [Original.prototype, "constructor"]];
  for (const [target, key] of places) {
    Object.defineProperty(target, key, { value: Tracked, writable: false, configurable: false });
  }
  return {
    stopStarted() {
      const count = live.size;
      for (const worker of live) terminate.call(worker);
      live.clear();
      return count;
    },
  };
}
