/**
 * One Worker that serves jobs one at a time, in order, for the host's renderers: started on
 * first use, each job bounded in time. A job past its time, an uncaught error in the Worker, or
 * a failure the owner says may have damaged it ends that Worker; the next job starts a fresh
 * one. Closing rejects the job running and those waiting.
 *
 * The Worker answers each `{ id, ...request }` message with `{ id, ok: true, ...result }` or
 * `{ id, ok: false, message }`.
 *
 * @module
 */

/** What a serial Worker posts back for one request. */
export type SerialReply<Result> =
  | ({ id: number; ok: true } & Result)
  | { id: number; ok: false; message: string };

/** How a {@linkcode SerialWorker} starts its Worker and words its failures. */
export interface SerialWorkerOptions {
  /** The Worker's module. */
  url: URL;
  /** The Worker's name (shown in stack traces). */
  name: string;
  /** The Worker's permissions (default: the host's). */
  permissions?: Deno.PermissionOptions;
  /** Time one job may take, in ms, before its Worker is ended. */
  timeoutMs: number;
  /** What every failure's message starts with, e.g. `Cannot draw SVG`. */
  failure: string;
  /** Whether a failure the Worker reported may have damaged it, so it is ended (default: no). */
  damaging?: (message: string) => boolean;
}

/** A Worker serving one job at a time; close it with `close()` or `await using`. */
export class SerialWorker<Request extends object, Result extends object>
  implements AsyncDisposable {
  #options: SerialWorkerOptions;
  #worker?: Worker;
  #pending = new Map<number, (reply: SerialReply<Result> | "timeout" | "closed") => void>();
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: SerialWorkerOptions) {
    this.#options = options;
  }

  /**
   * Runs `request` after the jobs before it.
   *
   * @throws {Error} When the Worker reported a failure, the job took too long, the Worker failed
   * or was closed; the message starts with the `failure` words and says which.
   */
  run(request: Request): Promise<Result> {
    const job = this.#queue.then(() => this.#send(request));
    this.#queue = job.catch(() => {});
    return job;
  }

  /** Ends the Worker: the job running and those waiting reject, as do later ones. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const resolve of this.#pending.values()) resolve("closed");
    this.#stop();
    await this.#queue;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #send(request: Request): Promise<Result> {
    const { failure, timeoutMs } = this.#options;
    if (this.#closed) throw new Error(`${failure}: the renderer is closed`);
    const worker = this.#worker ??= this.#start();
    const id = this.#next++;
    const { promise, resolve } = Promise.withResolvers<
      SerialReply<Result> | "timeout" | "closed"
    >();
    this.#pending.set(id, resolve);
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    try {
      worker.postMessage({ id, ...request });
      const reply = await promise;
      if (reply === "closed") throw new Error(`${failure}: the renderer is closed`);
      if (reply === "timeout") {
        this.#stop();
        throw new Error(`${failure}: it took more than ${timeoutMs} ms`);
      }
      if (!reply.ok) {
        if (this.#options.damaging?.(reply.message)) this.#stop();
        throw new Error(`${failure}: ${reply.message}`);
      }
      const { id: _id, ok: _ok, ...result } = reply;
      return result as unknown as Result;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  #start(): Worker {
    const { url, name, permissions } = this.#options;
    const worker = new Worker(url, {
      type: "module",
      name,
      ...(permissions !== undefined && { deno: { permissions } }),
    });
    worker.onmessage = (event: MessageEvent<SerialReply<Result>>) => {
      this.#pending.get(event.data.id)?.(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const message = `the renderer failed: ${event.message}`;
      for (const [id, resolve] of this.#pending) resolve({ id, ok: false, message });
      this.#stop();
    };
    return worker;
  }

  #stop(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}
