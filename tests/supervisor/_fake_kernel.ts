/**
 * Test helper: fake kernels for the supervisor's unit tests. A fake's namespace is a map of
 * numbers, a cell is `name = value` or `name += value` (or `cancelled, restarted`: a cancel that
 * restarted the kernel), and each snapshot can be held open by a gate so that races are played
 * out step by step.
 *
 * @module
 */
import type { ExecuteResult } from "../../src/kernel/kernel_handle.ts";
import { SAVE_YIELDED } from "../../src/kernel/worker/save_yield.ts";
import type { KernelFactory, KernelHooks } from "../../src/supervisor/kernel_factory.ts";

/** A kernel with a namespace of numbers; see the module doc. */
export class FakeKernel {
  readonly id: string;
  readonly hooks: KernelHooks;
  vars = new Map<string, number>();
  executionCount = 0;
  closed = false;
  /** When set, `snapshot()` waits for it: resolve it to let the save finish. */
  snapshotGate?: Promise<void>;
  /** Called when a snapshot starts, before it waits for the gate. */
  onSnapshot?: () => void;
  /** Whether each snapshot asked was yieldable, in order. */
  yieldables: boolean[] = [];
  /** A yieldable snapshot gives way (as to a request behind it) while this is set. */
  busy = false;

  constructor(id: string, hooks: KernelHooks) {
    this.id = id;
    this.hooks = hooks;
    this.executionCount = hooks.executionCount;
  }

  /** When set, `execute` waits for it after the cell started: resolve it to let it finish. */
  executeGate?: Promise<void>;

  async execute(
    code: string,
    options: { onStart?: (cell: { cell: number; declared: string[] }) => void } = {},
  ): Promise<ExecuteResult> {
    this.#live();
    const cell = ++this.executionCount;
    // A cell whose cancel the kernel did not answer in time: it is restarted from its last save.
    if (code === "cancelled, restarted") {
      return this.die().then((outcome) => ({
        status: "cancelled",
        executionCount: cell,
        stdout: "",
        stderr: "",
        durationMs: 0,
        ...outcome,
      }));
    }
    const m = /^(\w+)\s*(\+?=)\s*(-?\d+)$/.exec(code.trim());
    if (m) {
      const [, name, op, value] = m as unknown as [string, string, string, string];
      this.vars.set(name, (op === "+=" ? this.vars.get(name) ?? 0 : 0) + Number(value));
    }
    const value = m ? this.vars.get(m[1]!) : this.vars.get(code.trim());
    options.onStart?.({ cell, declared: m?.[2] === "=" ? [m[1]!] : [] });
    await this.executeGate;
    return {
      status: "ok",
      executionCount: cell,
      stdout: "",
      stderr: "",
      durationMs: 0,
      // `name = value` declares `name`, as a top-level `let` would.
      declared: m?.[2] === "=" ? [m[1]!] : [],
      ...(value !== undefined && { data: { "text/plain": String(value) } }),
    };
  }

  memoryBytes(): Promise<number | null> {
    return Promise.resolve(null);
  }

  complete(): Promise<{ matches: string[]; cursorStart: number; cursorEnd: number }> {
    return Promise.resolve({ matches: [...this.vars.keys()], cursorStart: 0, cursorEnd: 0 });
  }

  variables(): Promise<{ name: string; type: string; preview: string; approxBytes: number }[]> {
    return Promise.resolve(
      [...this.vars].map(([name, v]) => ({
        name,
        type: "number",
        preview: `${v}`,
        approxBytes: 8,
      })),
    );
  }

  inspect(name: string): Promise<{ name: string; type: string; preview: string; members: [] }> {
    return Promise.resolve({
      name,
      type: "number",
      preview: `${this.vars.get(name)}`,
      members: [],
    });
  }

  async snapshot(
    options: { yieldable?: boolean } = {},
  ): Promise<{ body: Uint8Array; format: number; skipped: []; executionCount: number }> {
    this.#live();
    this.yieldables.push(options.yieldable === true);
    if (options.yieldable && this.busy) {
      throw Object.assign(new Error("gave way"), { name: SAVE_YIELDED });
    }
    const body = new TextEncoder().encode(JSON.stringify(Object.fromEntries(this.vars)));
    const executionCount = this.executionCount;
    this.onSnapshot?.();
    await this.snapshotGate;
    return { body, format: 1, skipped: [], executionCount };
  }

  restore(body: Uint8Array): Promise<{ restored: string[]; skipped: [] }> {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as Record<string, number>;
    for (const [k, v] of Object.entries(parsed)) this.vars.set(k, v);
    return Promise.resolve({ restored: Object.keys(parsed), skipped: [] });
  }

  reset(): Promise<void> {
    this.vars.clear();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Plays the kernel's death: a fresh, empty namespace, then the supervisor's recovery. */
  async die(): Promise<{ lost: string; restoredFrom?: { version: number; savedAt: number } }> {
    this.vars.clear();
    return await this.hooks.onRestart({
      restore: (body) => this.restore(body),
      restart: () => this.reset(),
    });
  }

  #live(): void {
    if (this.closed) throw new Error("Cannot use a closed kernel");
  }
}

/** A factory of fake kernels that remembers every kernel it started, in order. */
export function fakeFactory(): { start: KernelFactory; started: FakeKernel[] } {
  const started: FakeKernel[] = [];
  return {
    started,
    start: (id, hooks) => {
      const kernel = new FakeKernel(id, hooks);
      started.push(kernel);
      return Promise.resolve(kernel);
    },
  };
}
