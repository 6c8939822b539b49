/**
 * Cells that run in the background: started by `execute {background: true}`, which returns at
 * once, and followed with `cell_status`. The table is the host's, so a status is answered
 * without queueing behind the cell, and a cell outlives the call and the client that started
 * it. It lives in memory: a host restart forgets its cells (their kernels come back from their
 * snapshots, as after any restart).
 *
 * @module
 */
import type { ExecuteResult } from "./kernel/kernel_handle.ts";
import { OUTPUT_LIMIT_BYTES } from "./kernel/output_buffer.ts";

/** Finished cells kept per kernel for `cell_status`; older ones are forgotten. */
export const FINISHED_KEPT = 20;

/** A background cell as `cell_status` reports it. */
export interface BackgroundCell {
  cell: string;
  kernel: string;
  /** When it was started, in ms since the epoch. */
  startedAt: number;
  /** Output so far (the first 100 kB of each stream); once done, the result's. */
  stdout: string;
  stderr: string;
  /** Set once the cell has ended. */
  result?: ExecuteResult;
  /** Set when the cell could not end with a result (its kernel was closed): why, in words. */
  lost?: string;
}

/** Runs a cell, feeding its output to `onOutput`; `signal` cancels it. */
export type CellRun = (
  onOutput: (text: string, stream: "stdout" | "stderr") => void,
  signal: AbortSignal,
) => Promise<ExecuteResult>;

/** The host's table of background cells. */
export class BackgroundCells {
  #cells = new Map<string, BackgroundCell>();
  /** The running cells' cancels, and when each has ended. */
  #running = new Map<string, { cancel: AbortController; ended: Promise<unknown> }>();
  #now: () => number;

  /** @param now The clock (default `Date.now`). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Starts `run` without waiting for it and returns the cell's handle. */
  start(kernel: string, run: CellRun): BackgroundCell {
    const entry: BackgroundCell = {
      cell: crypto.randomUUID(),
      kernel,
      startedAt: this.#now(),
      stdout: "",
      stderr: "",
    };
    this.#cells.set(entry.cell, entry);
    const cancel = new AbortController();
    const ended = run((text, stream) => {
      if (entry[stream].length < OUTPUT_LIMIT_BYTES) {
        entry[stream] = (entry[stream] + text).slice(0, OUTPUT_LIMIT_BYTES);
      }
    }, cancel.signal).then((result) => {
      entry.result = result;
      entry.stdout = result.stdout;
      entry.stderr = result.stderr;
    }, (error: Error) => {
      entry.lost = `the cell ended without a result: ${error.message}`;
    }).finally(() => {
      this.#running.delete(entry.cell);
      this.#forgetOld(kernel);
    });
    this.#running.set(entry.cell, { cancel, ended });
    return { ...entry };
  }

  /**
   * Cancels the cell `cell` of kernel `kernel` if it still runs (as a client's cancel does: the
   * kernel keeps its variables) and waits up to `waitMs` for it to end; `undefined` when unknown.
   */
  async cancel(kernel: string, cell: string, waitMs: number): Promise<BackgroundCell | undefined> {
    const running = this.get(kernel, cell) && this.#running.get(cell);
    if (running) {
      running.cancel.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        running.ended,
        new Promise((resolve) => timer = setTimeout(resolve, waitMs)),
      ]);
      clearTimeout(timer);
    }
    return this.get(kernel, cell);
  }

  /** The cell `cell` of kernel `kernel`, as it is now; `undefined` when unknown there. */
  get(kernel: string, cell: string): BackgroundCell | undefined {
    const entry = this.#cells.get(cell);
    return entry?.kernel === kernel ? { ...entry } : undefined;
  }

  /** Forgets a closed kernel's cells. */
  forget(kernel: string): void {
    for (const [id, c] of this.#cells) if (c.kernel === kernel) this.#cells.delete(id);
  }

  #forgetOld(kernel: string): void {
    const finished = [...this.#cells.values()].filter((c) =>
      c.kernel === kernel && (c.result || c.lost)
    );
    for (const old of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) {
      this.#cells.delete(old.cell);
    }
  }
}
