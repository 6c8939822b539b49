/**
 * The supervisor owns the live kernels and applies the policy (`policy.ts`): a cap on live
 * kernels with least-recently-used eviction (saved first), idle culling, saves on an interval and
 * after N requests, and restoring a kernel from its freshest good snapshot when it comes back
 * (after eviction, culling, a host restart or its own death). It decides when a kernel stops; the
 * kernel handle only carries it out.
 *
 * @module
 */
import {
  type ExecuteResult,
  KernelHandle,
  type KernelOptions,
  type RestartControl,
  type RestartOutcome,
} from "../kernel/kernel_handle.ts";
import type { SkippedItem } from "../kernel/protocol.ts";
import type { Registry, SnapshotRecord } from "../registry/registry.ts";
import { log } from "../log.ts";
import { type KernelView, needsSave, pickCulls, pickEvictions, type SavePolicy } from "./policy.ts";

/** How the supervisor runs. Durations in milliseconds. */
export interface SupervisorOptions extends SavePolicy {
  registry: Registry;
  /** How a kernel with this id runs: scratch folder, limits, prelude. */
  kernelOptions: (id: string) => Omit<KernelOptions, "onRestart">;
  /** Live kernels at most (default 4). */
  maxKernels: number;
  /** Idle time after which a kernel is saved and stopped. */
  idleTimeoutMs: number;
  /** How long a new kernel waits for a live slot when every live kernel is busy. */
  capacityWaitMs: number;
  /** Snapshot versions kept per kernel. */
  snapshotVersions: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** How often the policy runs (default 1000 ms). */
  tickMs?: number;
  /** Where problems are reported (default: stderr). */
  log?: (message: string) => void;
}

/** Thrown when every live kernel stayed busy for the whole capacity wait. */
export class CapacityError extends Error {
  /** @param message Says how many kernels are busy and for how long we waited. */
  constructor(message: string) {
    super(message);
    this.name = "CapacityError";
  }
}

/** Thrown for a kernel id that is unknown or closed. */
export class KernelNotFoundError extends Error {
  /** @param id The kernel id asked for. */
  constructor(id: string) {
    super(`No kernel with id "${id}": it was never created here, or it was closed`);
    this.name = "KernelNotFoundError";
  }
}

/** What the next `execute` result should say about how its kernel came back. */
interface Notice {
  restoredFrom?: { version: number; savedAt: number };
  lost?: string;
}

interface Entry {
  id: string;
  persistent: boolean;
  handle?: KernelHandle;
  starting?: Promise<KernelHandle>;
  /** Admitted to a live slot and starting: counts against the cap before it has a handle. */
  reserved: boolean;
  busy: number;
  lastActive: number;
  dirty: boolean;
  dirtySince: number | null;
  requestsSinceSave: number;
  generation: number;
  saving: Promise<boolean>;
  /** Snapshots of an ephemeral kernel, newest first; persistent ones live in the registry. */
  memory: SnapshotRecord[];
  notice?: Notice;
  /** The registry's last active time and count need writing. */
  touched: boolean;
}

/** Owns live kernels; see the module doc. Close it with `shutdown()`. */
export class Supervisor {
  #o: Required<SupervisorOptions>;
  #entries = new Map<string, Entry>();
  #admission: Promise<unknown> = Promise.resolve();
  #changed = Promise.withResolvers<void>();
  #timer: number;
  #closing = false;

  /** @param options Registry, kernel options and policy. */
  constructor(options: SupervisorOptions) {
    this.#o = {
      now: Date.now,
      tickMs: 1000,
      log: (message) => log("warn", message),
      ...options,
    };
    // The SDK's Node typings retype setInterval; Deno returns a number.
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs) as unknown as number;
    Deno.unrefTimer(this.#timer);
  }

  /**
   * Creates a kernel and starts it.
   *
   * @param options.persistent Saved to the registry (else snapshots stay in memory and die
   *   with the host, and the kernel is never evicted).
   */
  async create(
    id: string,
    options: { persistent: boolean; ownerSession?: string; name?: string },
  ): Promise<void> {
    const now = this.#o.now();
    if (options.persistent) {
      this.#o.registry.createKernel({
        id,
        ownerSession: options.ownerSession,
        name: options.name,
        now,
      });
    }
    const entry = this.#newEntry(id, options.persistent, now);
    this.#entries.set(id, entry);
    await this.#ensureLive(entry);
  }

  /**
   * Records a persistent kernel without starting it (state `stored`, no snapshot): it starts,
   * empty, on its first request. A new session's default kernel costs nothing until used.
   */
  register(id: string, options: { ownerSession?: string }): void {
    const now = this.#o.now();
    this.#o.registry.createKernel({ id, ownerSession: options.ownerSession, now });
    this.#o.registry.updateKernel(id, { state: "stored" });
  }

  /** Ids of the kernels whose state is not persisted. */
  ephemeralIds(): string[] {
    return [...this.#entries.values()].filter((e) => !e.persistent).map((e) => e.id);
  }

  /** The sandbox process id of a live kernel. */
  pidOf(id: string): number | undefined {
    return this.#entries.get(id)?.handle?.pid;
  }

  /** The execution count of a live kernel. */
  executionCountOf(id: string): number | undefined {
    return this.#entries.get(id)?.handle?.executionCount;
  }

  /** Whether the id names a kernel this host can serve (live, or stored in the registry). */
  has(id: string): boolean {
    if (this.#entries.has(id)) return true;
    const record = this.#o.registry.getKernel(id);
    return record !== undefined && record.state !== "closed";
  }

  /** Whether the kernel runs in a sandbox now. */
  isLive(id: string): boolean {
    return this.#entries.get(id)?.handle !== undefined;
  }

  /**
   * Runs `fn` with the kernel's live handle, starting and restoring the kernel first if needed.
   * Touches its last activity; `mutates` also marks it dirty and may trigger a save.
   *
   * @throws {KernelNotFoundError} For an unknown or closed id.
   * @throws {CapacityError} When no live slot frees up within the capacity wait.
   */
  async run<T>(
    id: string,
    fn: (handle: KernelHandle) => Promise<T>,
    options: { mutates?: boolean } = {},
  ): Promise<T> {
    if (this.#closing) throw new Error("The host is shutting down; try again after it restarts");
    const entry = this.#entry(id);
    entry.busy++;
    try {
      const handle = await this.#ensureLive(entry);
      return await fn(handle);
    } finally {
      entry.busy--;
      entry.lastActive = this.#o.now();
      entry.touched = true;
      if (options.mutates !== false) {
        entry.dirty = true;
        entry.dirtySince ??= entry.lastActive;
        entry.requestsSinceSave++;
        entry.generation++;
        if (needsSave(this.#view(entry), entry.lastActive, this.#o)) void this.save(id);
      }
      this.#signal();
    }
  }

  /** Runs a cell and adds what the result should say about a restore since the last cell. */
  async execute(id: string, code: string, timeoutMs?: number): Promise<ExecuteResult> {
    const result = await this.run(id, (h) => h.execute(code, { timeoutMs }));
    const entry = this.#entries.get(id);
    const notice = entry?.notice;
    if (entry) entry.notice = undefined;
    if (notice?.restoredFrom && !result.restoredFrom) result.restoredFrom = notice.restoredFrom;
    if (notice?.lost) result.lost = result.lost ? `${notice.lost}; ${result.lost}` : notice.lost;
    return result;
  }

  /** Saves the kernel now if it changed; resolves `false` if the save failed (it stays dirty). */
  save(id: string): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (!entry) return Promise.resolve(true);
    entry.saving = entry.saving.then(() => this.#save(entry));
    return entry.saving;
  }

  /** Saves and stops a kernel; it stays resumable. Returns `false` if it could not be saved. */
  async stop(id: string): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (!entry?.handle) return true;
    if (!await this.save(id)) return false;
    // A request may have reached the kernel while it was being saved: stopping it now would
    // drop that request's effect, so the kernel stays (found by the load test).
    if (entry.busy > 0 || entry.dirty) return false;
    await this.#halt(entry, "stored");
    return true;
  }

  /** Stops a kernel without saving and deletes its state. */
  async close(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    this.#entries.delete(id);
    if (entry?.starting) await entry.starting.catch(() => {});
    await entry?.handle?.close();
    if (entry?.persistent ?? true) this.#o.registry.closeKernel(id);
    this.#signal();
  }

  /** Applies the policy once: saves what is due, culls what is idle, records activity. */
  tick(): void {
    const now = this.#o.now();
    const views = [...this.#entries.values()].map((e) => this.#view(e));
    for (const view of views) {
      if (needsSave(view, now, this.#o)) void this.save(view.id);
    }
    for (const id of pickCulls(views, now, this.#o.idleTimeoutMs)) void this.stop(id);
    this.#flushActivity();
  }

  /**
   * Starts the kernels that were live when the host last stopped, most recently active first, up
   * to the cap; the others become stored and start on their next request. Returns at once.
   */
  rehydrate(): Promise<void> {
    const active = this.#o.registry.listKernels({ state: "live", named: false });
    const now = this.#o.now();
    const starts: Promise<unknown>[] = [];
    active.forEach((record, i) => {
      if (i >= this.#o.maxKernels || this.#entries.has(record.id)) {
        if (!this.#entries.has(record.id)) {
          this.#o.registry.updateKernel(record.id, { state: "stored" });
        }
        return;
      }
      const entry = this.#newEntry(record.id, true, record.lastActiveAt || now);
      this.#entries.set(record.id, entry);
      starts.push(
        this.#ensureLive(entry).catch((error) => {
          this.#o.log(`could not rehydrate a kernel: ${error}`);
        }),
      );
    });
    return Promise.all(starts).then(() => {});
  }

  /**
   * Stops accepting requests, lets running ones finish within `graceMs`, saves every kernel and
   * stops it. Persistent kernels stay `live` in the registry so the next start rehydrates them.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    const deadline = this.#o.now() + graceMs;
    while ([...this.#entries.values()].some((e) => e.busy > 0) && this.#o.now() < deadline) {
      await this.#waitForChange(Math.min(100, deadline - this.#o.now()));
    }
    await Promise.all([...this.#entries.values()].map(async (entry) => {
      if (entry.persistent && entry.handle) await this.save(entry.id);
      await entry.starting?.catch(() => {});
      await entry.handle?.close();
      entry.handle = undefined;
    }));
    this.#flushActivity();
  }

  #entry(id: string): Entry {
    let entry = this.#entries.get(id);
    if (entry) return entry;
    const record = this.#o.registry.getKernel(id);
    if (!record || record.state === "closed") throw new KernelNotFoundError(id);
    entry = this.#newEntry(id, true, record.lastActiveAt);
    this.#entries.set(id, entry);
    return entry;
  }

  #newEntry(id: string, persistent: boolean, now: number): Entry {
    return {
      id,
      persistent,
      busy: 0,
      lastActive: now,
      dirty: false,
      dirtySince: null,
      requestsSinceSave: 0,
      generation: 0,
      saving: Promise.resolve(true),
      memory: [],
      touched: false,
      reserved: false,
    };
  }

  #view(e: Entry): KernelView {
    return {
      id: e.id,
      live: e.handle !== undefined || e.reserved,
      busy: e.busy > 0 || e.reserved,
      persistent: e.persistent,
      lastActive: e.lastActive,
      dirty: e.dirty,
      dirtySince: e.dirtySince,
      requestsSinceSave: e.requestsSinceSave,
    };
  }

  #ensureLive(entry: Entry): Promise<KernelHandle> {
    if (entry.handle) return Promise.resolve(entry.handle);
    entry.starting ??= this.#start(entry).finally(() => entry.starting = undefined);
    return entry.starting;
  }

  async #start(entry: Entry): Promise<KernelHandle> {
    await this.#admit(entry);
    let handle: KernelHandle;
    try {
      handle = await KernelHandle.start({
        ...this.#o.kernelOptions(entry.id),
        onRestart: (control) => this.#recover(entry, control),
      });
    } catch (error) {
      entry.reserved = false;
      this.#signal();
      throw error;
    }
    try {
      const outcome = await this.#restoreLatest(entry, {
        restore: (body) => handle.restore(body),
        restart: () => handle.reset(),
      });
      if (outcome.restoredFrom || outcome.lost) entry.notice = outcome;
    } catch (error) {
      await handle.close();
      entry.reserved = false;
      this.#signal();
      throw error;
    }
    entry.handle = handle;
    entry.reserved = false;
    if (entry.persistent) this.#o.registry.updateKernel(entry.id, { state: "live" });
    return handle;
  }

  /** Waits for a live slot, evicting the least recently used idle kernels; one at a time. */
  #admit(entry: Entry): Promise<void> {
    const admitted = this.#admission.then(async () => {
      const deadline = this.#o.now() + this.#o.capacityWaitMs;
      for (;;) {
        const others = [...this.#entries.values()].filter((e) => e !== entry);
        // Only admitted kernels hold a slot: those still waiting for one must not count.
        const live = others.filter((e) => e.handle || e.reserved);
        if (live.length < this.#o.maxKernels) {
          entry.reserved = true;
          return;
        }
        const victims = pickEvictions(others.map((e) => this.#view(e)), this.#o.maxKernels);
        let freed = false;
        for (const id of victims) freed = await this.stop(id) || freed;
        if (freed) continue;
        const left = deadline - this.#o.now();
        if (left <= 0) {
          throw new CapacityError(
            `The host is at capacity: all ${live.length} live kernels stayed busy for ` +
              `${Math.round(this.#o.capacityWaitMs / 1000)} s; try again shortly`,
          );
        }
        await this.#waitForChange(left);
      }
    });
    this.#admission = admitted.catch(() => {});
    return admitted;
  }

  async #save(entry: Entry): Promise<boolean> {
    const handle = entry.handle;
    if (!handle || !entry.dirty) return true;
    const generation = entry.generation;
    const requests = entry.requestsSinceSave;
    try {
      const taken = await handle.snapshot();
      const snapshot = {
        body: taken.body,
        format: taken.format,
        savedAt: this.#o.now(),
        executionCount: handle.executionCount,
        skipped: taken.skipped,
      };
      if (entry.persistent) {
        this.#o.registry.saveSnapshot(entry.id, snapshot, this.#o.snapshotVersions);
      } else {
        const version = (entry.memory[0]?.version ?? 0) + 1;
        const size = taken.body.length;
        entry.memory = [
          { ...snapshot, kernelId: entry.id, version, size, quarantined: null },
          ...entry.memory,
        ]
          .slice(0, this.#o.snapshotVersions);
      }
      if (entry.generation === generation) {
        entry.dirty = false;
        entry.dirtySince = null;
        entry.requestsSinceSave = 0;
      } else {
        entry.requestsSinceSave = Math.max(0, entry.requestsSinceSave - requests);
      }
      return true;
    } catch (error) {
      // The kernel keeps running and stays dirty: a failed save never costs its state.
      this.#o.log(`saving a kernel failed, will retry: ${(error as Error).message}`);
      return false;
    }
  }

  async #halt(entry: Entry, state: "stored"): Promise<void> {
    const handle = entry.handle;
    entry.handle = undefined;
    await handle?.close();
    if (entry.persistent) {
      this.#o.registry.updateKernel(entry.id, {
        state,
        lastActiveAt: entry.lastActive,
      });
    }
    this.#signal();
  }

  /** After a kernel died and restarted empty: restore its freshest snapshot. */
  async #recover(entry: Entry, control: RestartControl): Promise<RestartOutcome> {
    const outcome = await this.#restoreLatest(entry, control);
    entry.dirty = false;
    entry.dirtySince = null;
    entry.requestsSinceSave = 0;
    const lost = outcome.restoredFrom
      ? `changes made after the last save (${new Date(outcome.restoredFrom.savedAt).toISOString()})`
      : "all variables: there was no saved state to restore";
    return {
      restoredFrom: outcome.restoredFrom,
      lost: outcome.lost ? `${lost}; ${outcome.lost}` : lost,
    };
  }

  /**
   * Restores the newest snapshot that loads. One that fails is quarantined (kept, flagged) and
   * the next older one is tried in a fresh sandbox.
   */
  async #restoreLatest(entry: Entry, control: RestartControl): Promise<Notice> {
    const notes: string[] = [];
    const candidates = entry.persistent
      ? this.#o.registry.listSnapshots(entry.id).filter((s) => !s.quarantined)
      : entry.memory;
    const recorded = entry.persistent ? this.#o.registry.getKernel(entry.id) : undefined;
    for (const meta of candidates) {
      const snapshot = entry.persistent
        ? this.#o.registry.loadSnapshot(entry.id, meta.version)
        : meta as SnapshotRecord;
      try {
        if (!snapshot) throw new Error("its body is missing");
        const report = await control.restore(snapshot.body);
        if (report.skipped.length > 0) {
          notes.push(`not restored: ${describeSkipped(report.skipped)}`);
        }
        if (recorded && recorded.executionCount > meta.executionCount) {
          notes.push(
            `cells ${
              meta.executionCount + 1
            }–${recorded.executionCount} ran after the last save and were lost`,
          );
        }
        return {
          restoredFrom: { version: meta.version, savedAt: meta.savedAt },
          lost: notes.length > 0 ? notes.join("; ") : undefined,
        };
      } catch (error) {
        const reason = (error as Error).message;
        if (entry.persistent) {
          this.#o.registry.quarantineSnapshot(entry.id, meta.version, reason, this.#o.now());
        }
        this.#o.log(`snapshot version ${meta.version} of a kernel failed to load: ${reason}`);
        notes.push(
          `snapshot version ${meta.version} (saved ${new Date(meta.savedAt).toISOString()}) ` +
            `failed to load and was quarantined: ${reason}`,
        );
        await control.restart();
      }
    }
    return { lost: notes.length > 0 ? notes.join("; ") : undefined };
  }

  #flushActivity(): void {
    for (const entry of this.#entries.values()) {
      if (!entry.touched || !entry.persistent) continue;
      entry.touched = false;
      try {
        this.#o.registry.updateKernel(entry.id, {
          lastActiveAt: entry.lastActive,
          ...(entry.handle && { executionCount: entry.handle.executionCount }),
        });
      } catch (error) {
        this.#o.log(`recording kernel activity failed: ${(error as Error).message}`);
      }
    }
  }

  #signal(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  #waitForChange(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;

    return Promise.race([
      this.#changed.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
    ]).finally(() => clearTimeout(timer));
  }
}

function describeSkipped(items: SkippedItem[]): string {
  const shown = items.slice(0, 10).map((s) => `${s.path} (${s.reason})`).join(", ");
  return items.length > 10 ? `${shown} and ${items.length - 10} more` : shown;
}
