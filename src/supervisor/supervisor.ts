/**
 * The supervisor owns the live kernels: the table of kernels and their lifecycle (start,
 * save, stop, close), applying the policy (`policy.ts`) on a tick: saves on an interval and
 * after N requests, idle culling; admission to a live slot with eviction (`admission.ts`); and
 * restoring a kernel from its freshest good snapshot when it comes back (`recovery.ts`). It
 * decides when a kernel stops; the kernel only carries it out.
 *
 * Persistent kernels live in the registry; ephemeral ones (stdio without `--kernel`) in a
 * memory registry of their own, so both take the same paths.
 *
 * @module
 */
import { shutdownInterruptError } from "../kernel/failure_words.ts";
import type { ExecuteOptions, ExecuteResult } from "../kernel/kernel_handle.ts";
import { SAVE_YIELDED } from "../kernel/worker/save_yield.ts";
import { log } from "../log.ts";
import { openMemoryRegistry } from "../registry/memory/memory_registry.ts";
import {
  type KernelRecord,
  type LeaseFence,
  LeaseLostError,
  type Registry,
} from "../registry/registry.ts";
import { Admission, type EvictOutcome } from "./admission.ts";
import { ChangeSignal } from "./change_signal.ts";
import { KernelLeasedError, KernelNotFoundError, ShuttingDownError } from "./errors.ts";
import type { KernelFactory, SupervisedKernel } from "./kernel_factory.ts";
import type { ScratchSync } from "./scratch_sync.ts";
import { type Entry, markSaved, newEntry, saveEntry, view } from "./kernel_entry.ts";
import { handoverWaitMs, LEASE_POLL_MS, type LeaseOptions, renewEveryMs } from "./leases.ts";
import { needsSave, pickCulls, retryDelayMs, type SavePolicy } from "./policy.ts";
import { describeRestart, type Notice, restoreLatest } from "./recovery.ts";

/** How the supervisor runs. Durations in milliseconds. */
/** A save the policy asks for (see `save`). */
const PERIODIC = { periodic: true };

/**
 * How long a shutdown waits for the cells it interrupted: a cancel's grace, and the restart of
 * a kernel whose cell did not stop (synchronous code the interrupt could not reach).
 */
const INTERRUPT_WAIT_MS = 5000;

/**
 * The fence of a write about a leased kernel this host holds no lease of (lost or released): no
 * lease row matches it, so the registry refuses the write.
 */
const NO_LEASE = { holder: "(no lease held here)", epoch: -1 };

/** What the log says of a kernel whose lease another host took. */
const TAKEN = "another host took it; stopped it here without saving";

/** Periodic saves in a row that may give way to a request before one must finish. */
export const MAX_YIELDS = 3;

export interface SupervisorOptions extends SavePolicy {
  /** Where persistent kernels and their snapshots live. */
  registry: Registry;
  /** Where ephemeral kernels live (default: a fresh memory registry). */
  scratch?: Registry;
  /** Starts a kernel in a fresh sandbox. */
  startKernel: KernelFactory;
  /** Live kernels at most. */
  maxKernels: number;
  /** Idle time after which a kernel is saved and stopped. */
  idleTimeoutMs: number;
  /** How long a new kernel waits for a live slot when every live kernel is busy. */
  capacityWaitMs: number;
  /** Snapshot versions kept per kernel. */
  snapshotVersions: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** How often the policy runs (default 1000 ms; 0: only when `tick()` is called). */
  tickMs?: number;
  /** Where problems are reported (default: the log, at warn). */
  log?: (message: string) => void;
  /**
   * Leases for a registry shared by several hosts (see `leases.ts`); absent: none, as one host
   * on its own registry needs none.
   */
  lease?: LeaseOptions;
  /** Moves persistent kernels' scratch files through the registry (shared registries only). */
  files?: ScratchSync;
}

/** What a shutdown saved: kernels written, and why the others could not be. */
export interface ShutdownReport {
  /** Persistent kernels with unsaved changes that were saved. */
  saved: number;
  /** One reason per kernel whose save failed; its changes since its last save are lost. */
  failed: string[];
}

/** Owns live kernels; see the module doc. Close it with `shutdown()`. */
export class Supervisor {
  #o:
    & Required<Omit<SupervisorOptions, "lease" | "files">>
    & Pick<SupervisorOptions, "lease" | "files">;
  #entries = new Map<string, Entry>();
  #changes = new ChangeSignal();
  #admission: Admission;
  #timer?: number;
  #closing = false;
  /** Aborted when the shutdown's grace ends, its reason the grace in ms: it interrupts cells. */
  #graceOver = new AbortController();
  /** When the leases were last renewed, by `now`. */
  #renewedAt = -Infinity;
  /**
   * Orders this host's requests and results (see `execute`): a request numbered past a result
   * came after it, even within one millisecond.
   */
  #sequence = 0;

  /** @param options Registry, kernel factory and policy. */
  constructor(options: SupervisorOptions) {
    this.#o = {
      now: Date.now,
      tickMs: 1000,
      log: (message) => log("warn", message),
      scratch: openMemoryRegistry(),
      ...options,
    };
    this.#admission = new Admission({
      cap: this.#o.maxKernels,
      waitMs: this.#o.capacityWaitMs,
      now: this.#o.now,
      kernels: () => [...this.#entries.values()].map(view),
      evict: (id) => this.#evict(id),
      changes: this.#changes,
    });
    if (this.#o.tickMs > 0) {
      // The SDK's Node typings retype setInterval; Deno returns a number.
      this.#timer = setInterval(() => this.tick(), this.#o.tickMs) as unknown as number;
      Deno.unrefTimer(this.#timer);
    }
  }

  /**
   * Creates a kernel and starts it.
   *
   * @param options.persistent Saved to the registry (else to the memory registry, dying with
   *   the host; such a kernel is never evicted or culled).
   */
  async create(
    id: string,
    options: { persistent: boolean; ownerSession?: string; name?: string },
  ): Promise<void> {
    const store = options.persistent ? this.#o.registry : this.#o.scratch;
    const now = this.#o.now();
    await store.createKernel({ id, ownerSession: options.ownerSession, name: options.name, now });
    const entry = newEntry(id, store, options.persistent, now);
    this.#entries.set(id, entry);
    await this.#ensureLive(entry);
  }

  /**
   * Records a persistent kernel without starting it (state `stored`, no snapshot): it starts,
   * empty, on its first request. A new session's default kernel costs nothing until used.
   */
  async register(id: string, options: { ownerSession?: string }): Promise<void> {
    const now = this.#o.now();
    await this.#o.registry.createKernel({
      id,
      ownerSession: options.ownerSession,
      state: "stored",
      now,
    });
  }

  /**
   * Starts and restores a kernel if it is not live.
   *
   * @throws {KernelNotFoundError} For an unknown or closed id.
   * @throws {CapacityError} When no live slot frees up within the capacity wait.
   */
  async ensureLive(id: string): Promise<void> {
    await this.#ensureLive(await this.#entry(id));
  }

  /** The kernel's record, from whichever registry holds it. */
  async record(id: string): Promise<KernelRecord | undefined> {
    return await (this.#entries.get(id)?.store ?? this.#o.registry).getKernel(id);
  }

  /** Ids of the kernels whose state is not persisted. */
  ephemeralIds(): string[] {
    return [...this.#entries.values()].filter((e) => !e.persistent).map((e) => e.id);
  }

  /** The resident memory of a live kernel's sandbox, as it measures it; `null` when not live. */
  async memoryBytesOf(id: string): Promise<number | null> {
    return await this.#entries.get(id)?.kernel?.memoryBytes() ?? null;
  }

  /** The execution count of a live kernel. */
  /**
   * What the next `execute` result of kernel `id` will say about its state, without using it up:
   * a restore since the last cell and what it lost, and why the latest save failed.
   */
  stateNotice(id: string): Notice & { saveFailed?: string } {
    const entry = this.#entries.get(id);
    return {
      // Until an execute result said it.
      ...(entry?.notice && entry.notice.told === undefined && {
        ...(entry.notice.lost && { lost: entry.notice.lost }),
        ...(entry.notice.restoredFrom && { restoredFrom: entry.notice.restoredFrom }),
      }),
      ...(entry?.saveFailure && { saveFailed: entry.saveFailure.reason }),
    };
  }

  executionCountOf(id: string): number | undefined {
    return this.#entries.get(id)?.kernel?.executionCount;
  }

  /** Whether the id names a kernel this host can serve (live, or stored in the registry). */
  async has(id: string): Promise<boolean> {
    if (this.#entries.has(id)) return true;
    const record = await this.#o.registry.getKernel(id);
    return record !== undefined && record.state !== "closed";
  }

  /** Whether the kernel runs in a sandbox now. */
  isLive(id: string): boolean {
    return this.#entries.get(id)?.kernel !== undefined;
  }

  /**
   * Runs `fn` with the kernel, starting and restoring it first if needed. Touches its last
   * activity; `mutates` (default true) also marks it dirty and may trigger a save.
   *
   * @throws {KernelNotFoundError} For an unknown or closed id.
   * @throws {CapacityError} When no live slot frees up within the capacity wait.
   */
  async run<T>(
    id: string,
    fn: (kernel: SupervisedKernel) => Promise<T>,
    options: { mutates?: boolean } = {},
  ): Promise<T> {
    if (this.#closing) throw new ShuttingDownError();
    let entry = await this.#entry(id);
    if (await this.#leaseLapsed(entry)) entry = await this.#entry(id);
    entry.busy++;
    // From the kernel's start on (a start's restore is no work to save).
    let began: number | undefined;
    try {
      const kernel = await this.#ensureLive(entry);
      began = this.#o.now();
      return await fn(kernel);
    } finally {
      entry.busy--;
      entry.lastActive = this.#o.now();
      entry.touched = true;
      if (options.mutates !== false) {
        entry.dirty = true;
        entry.dirtySince ??= entry.lastActive;
        entry.requestsSinceSave++;
        entry.unsavedWorkMs += began === undefined ? 0 : entry.lastActive - began;
        entry.generation++;
        // A save refused for its size is tried again after each request, not after its
        // back-off: the request may have freed the memory, and its result should say so.
        const retry = entry.saveFailure?.refused === true;
        if (retry || needsSave(view(entry), entry.lastActive, this.#o)) {
          void this.save(id, PERIODIC);
        }
      }
      this.#changes.notify();
    }
  }

  /**
   * Runs a cell and adds what the result should say about a restore or restart since the last
   * cell. That is said in every result until a request arrives after a result that said it was
   * sent: only then has a client surely been told. A result no client reads (a cancelled cell's,
   * or one whose caller gave up) tells no one; nor does one whose caller left unseen (a proxy
   * may close its connection without the host noticing), or one lost on the way. Meanwhile a
   * save carries the words (see `saveEntry`), so a host that restores the kernel next says them.
   */
  async execute(id: string, code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const arrival = ++this.#sequence;
    /** The entry the cell ran on: a save the cell set off may drop it from the table. */
    let ranOn: Entry | undefined;
    const record = (cell: number, declared: string[]) => {
      const entry = this.#entries.get(id) ?? ranOn;
      ranOn ??= entry;
      return entry?.store.recordCell(id, { cell, declared, at: this.#o.now() }, {
        fence: this.#fence(entry),
      });
    };
    // Written while the cell runs, and awaited before the reply: a host killed during the cell
    // or right after it can still name what the cell declared if its effect was never saved.
    let recording: Promise<void> | undefined;
    let started: number | undefined;
    const graceOver = this.#graceOver.signal;
    const result = await this.run(id, (k) =>
      k.execute(code, {
        ...options,
        signal: options.signal ? AbortSignal.any([options.signal, graceOver]) : graceOver,
        onStart: ({ cell, declared }) => {
          options.onStart?.({ cell, declared });
          started = cell;
          recording = record(cell, declared);
          // Handled when awaited below; meanwhile it is not an unhandled rejection.
          recording?.catch(() => {});
        },
      }));
    if (result.status === "cancelled" && graceOver.aborted && !options.signal?.aborted) {
      result.error = shutdownInterruptError(graceOver.reason as number, started !== undefined);
    }
    const entry = this.#entries.get(id);
    // Read and updated before any await, so that concurrent results agree on it.
    const pending = entry?.notice;
    const own = result.lost !== undefined || result.restoredFrom !== undefined;
    const heard = pending?.told !== undefined && arrival > pending.told;
    if (entry && heard) {
      entry.notice = undefined;
    } else if (pending) {
      if (pending.restoredFrom && !result.restoredFrom) result.restoredFrom = pending.restoredFrom;
      if (pending.lost) {
        result.lost = result.lost ? `${pending.lost}; ${result.lost}` : pending.lost;
      }
    }
    const unread = result.status === "cancelled" || options.signal?.aborted === true;
    if (entry && (result.lost || result.restoredFrom)) {
      const said = { lost: result.lost, restoredFrom: result.restoredFrom };
      const toldNow = () => ({ told: ++this.#sequence, toldAt: this.#o.now() });
      if (own || !pending || heard) {
        // Found while this request waited on its own cell: this result tells it.
        entry.notice = {
          ...said,
          found: ++this.#sequence,
          afterWait: false,
          ...(!unread && toldNow()),
        };
      } else {
        // Said before, or found by the start this request waited for: it counts as told only
        // if this request came after it was found, or did not wait for another host's lease
        // (a request that waited seconds for a paused holder may have been given up unseen).
        const counts = !unread && (arrival > pending.found || !pending.afterWait);
        entry.notice = {
          ...pending,
          ...said,
          ...(pending.told === undefined && counts && toldNow()),
        };
      }
    }
    // A cell that never started (a syntax error) is recorded now; so is one whose number
    // changed on the way (a restart renumbered it), and, under a lease, every cell again: that
    // write's fence tells whether another host took the kernel while the cell ran.
    const fenced = entry !== undefined && this.#fence(entry) !== undefined;
    if (recording === undefined || started !== result.executionCount || fenced) {
      const before = recording;
      recording = (async () => {
        await before?.catch(() => {});
        await record(result.executionCount, result.declared ?? []);
      })();
    }
    await recording.catch(async (error) => {
      const held = entry ?? ranOn;
      if (!(error instanceof LeaseLostError)) {
        this.#o.log(`recording a cell failed: ${(error as Error).message}`);
        // A write cut off without the fence's answer (a takeover ends a stalled holder's
        // sessions) may mean the lease is gone: ask, rather than claim an effect that another
        // host will not have. A save the cell set off may have found it gone first.
        if (!held || await this.#stillLeased(held)) return;
      }
      if (held) {
        this.#lost(held, "it ran a cell after another host took the kernel; stopped it here");
      }
      const moved = "this host lost the kernel's lease to another host while the cell ran, so " +
        "its effect is not kept: the next call continues from the kernel's latest saved state";
      result.lost = result.lost ? `${moved}; ${result.lost}` : moved;
    });
    log("debug", "ran a cell", {
      kernel: id,
      cell: result.executionCount,
      status: result.status,
      epoch: entry?.lease?.epoch,
      unread,
      lost: result.lost,
    });
    // The retry of a refused save this cell started (see run): its outcome, not the refusal
    // from before the cell, is what the result says.
    if (entry?.saveFailure?.refused) await entry.saving;
    if (entry?.saveFailure) result.saveFailed = entry.saveFailure.reason;
    return result;
  }

  /**
   * Saves the kernel now if it changed; resolves `false` if the save failed or gave way (it
   * stays dirty).
   *
   * @param options.periodic A save the policy asked for, not one a stop or shutdown needs: it
   *   gives way to a request that arrives while it runs, so the agent does not wait through a
   *   long save (the kernel is saved after that request), except after
   *   {@linkcode MAX_YIELDS} such yields in a row, so that a busy kernel is saved all the same.
   */
  save(id: string, options: { periodic?: boolean } = {}): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (!entry) return Promise.resolve(true);
    entry.saving = entry.saving.then(() =>
      this.#save(entry, options.periodic === true && entry.yields < MAX_YIELDS)
    );
    return entry.saving;
  }

  /**
   * Saves a persistent kernel's scratch files to a shared registry now, not its namespace: an
   * upload is then kept by a host that takes the kernel over, as its reply said it was written.
   * Files newer than the namespace are what a crash between a save's two writes leaves too.
   */
  async saveFiles(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry?.persistent || !this.#o.files) return;
    await this.#o.files.save(id, entry.store, this.#fence(entry));
  }

  /**
   * Saves and stops a kernel; it stays resumable. Returns `false` if it could not be saved, or
   * if a request reached it during the save.
   */
  async stop(id: string): Promise<boolean> {
    return await this.#evict(id) === "stopped";
  }

  async #evict(id: string): Promise<EvictOutcome> {
    const entry = this.#entries.get(id);
    if (!entry?.kernel) return "stopped";
    if (!await this.save(id)) return "failed";
    // A request may have reached the kernel while it was being saved: stopping it now would
    // drop that request's effect, so the kernel stays (found by the load test).
    if (entry.busy > 0 || entry.dirty) return "changed";
    // Another stop of it (a cull picked again by a later tick while this save ran) took it.
    if (!entry.kernel) {
      await entry.stopping?.catch(() => {});
      return "stopped";
    }
    const kernel = entry.kernel;
    entry.kernel = undefined;
    entry.stopping = (async () => {
      await kernel.close();
      await entry.store.updateKernel(id, { state: "stored", lastActiveAt: entry.lastActive }, {
        fence: this.#fence(entry),
      });
      await this.#releaseLease(entry);
      // Under leases the kernel may go to another host, which hears what is still to tell from
      // the snapshot just saved (`untoldLoss`) and, once told, saves it away: words kept here
      // would come back as new if the kernel returned. Only words a save carried.
      if (this.#o.lease && entry.notice?.lost === entry.savedLoss) entry.notice = undefined;
    })();
    try {
      await entry.stopping;
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      this.#lost(entry, "another host took it while it stopped here");
    } finally {
      entry.stopping = undefined;
      this.#changes.notify();
    }
    return "stopped";
  }

  /**
   * Stops a kernel without saving and deletes its state. With leases, the kernel's lease is
   * taken first (another host running it is asked to hand it over).
   *
   * @throws {KernelLeasedError} When another host holds the kernel and does not hand it over.
   */
  async close(id: string): Promise<void> {
    const entry = this.#entries.get(id) ?? newEntry(id, this.#o.registry, true, this.#o.now());
    await entry.stopping?.catch(() => {});
    await this.#takeLease(entry);
    this.#entries.delete(id);
    if (entry.starting) await entry.starting.catch(() => {});
    await entry.kernel?.close();
    entry.kernel = undefined;
    await entry.store.closeKernel(id, { fence: this.#fence(entry) });
    await this.#releaseLease(entry);
    this.#changes.notify();
  }

  /** Applies the policy once: saves what is due, culls what is idle, records activity. */
  tick(): Promise<void> {
    const now = this.#o.now();
    const views = [...this.#entries.values()].map(view);
    const work: Promise<unknown>[] = [];
    for (const v of views) if (needsSave(v, now, this.#o)) work.push(this.save(v.id, PERIODIC));
    for (const id of pickCulls(views, now, this.#o.idleTimeoutMs)) work.push(this.stop(id));
    work.push(this.#flushActivity(), this.#renewLeases());
    return Promise.all(work).then(() => {}, (error) => {
      this.#o.log(`applying the policy failed: ${(error as Error).message}`);
    });
  }

  /**
   * Starts the kernels that were live when the host last stopped, most recently active first, up
   * to the cap; the others become stored and start on their next request.
   */
  async rehydrate(): Promise<void> {
    const active = await this.#o.registry.listKernels({ state: "live", named: false });
    const now = this.#o.now();
    const starts: Promise<unknown>[] = [];
    let taken = 0;
    for (const record of active) {
      if (this.#entries.has(record.id)) continue;
      if (taken >= this.#o.maxKernels) {
        // Over a shared registry another host may run it: its state is not this host's to set.
        if (!this.#o.lease) await this.#o.registry.updateKernel(record.id, { state: "stored" });
        continue;
      }
      const entry = newEntry(record.id, this.#o.registry, true, record.lastActiveAt || now);
      if (!await this.#leaseForRehydration(entry)) continue;
      taken++;
      this.#entries.set(record.id, entry);
      starts.push(
        this.#ensureLive(entry).catch((error) => {
          this.#o.log(`could not rehydrate a kernel: ${error}`);
        }),
      );
    }
    await Promise.all(starts);
  }

  /**
   * Stops accepting requests, lets running ones finish within `graceMs`, interrupts the cells
   * still running then (their kernels keep their variables), saves every kernel and stops it.
   * Persistent kernels stay `live` in the registry so the next start rehydrates them.
   */
  async shutdown(graceMs: number): Promise<ShutdownReport> {
    this.#closing = true;
    clearInterval(this.#timer);
    if (!await this.#idle(graceMs)) {
      // Cells still running are interrupted, keeping their variables, so that their effect is
      // saved with the rest and the host exits within its grace (a container stop, a systemd
      // stop, kills it soon after).
      this.#graceOver.abort(graceMs);
      if (!await this.#idle(INTERRUPT_WAIT_MS)) {
        this.#o.log("shutting down with requests still running past the interrupt");
      }
    }
    const report: ShutdownReport = { saved: 0, failed: [] };
    await Promise.all([...this.#entries.values()].map(async (entry) => {
      // A save already running (one the last cell asked for) finishes first, and counts; what
      // it left unsaved is saved now, once.
      const changed = entry.persistent && entry.kernel !== undefined && entry.dirty;
      await entry.saving;
      if (entry.persistent && entry.kernel && entry.dirty) {
        try {
          await saveEntry(entry, { ...this.#o, fence: this.#fence(entry) });
        } catch (error) {
          report.failed.push((error as Error).message);
        }
      }
      if (changed && !entry.dirty) report.saved++;
      await entry.starting?.catch(() => {});
      await entry.kernel?.close();
      entry.kernel = undefined;
      await this.#releaseLease(entry);
    }));
    await this.#flushActivity();
    await this.#o.scratch.close();
    return report;
  }

  /** Waits up to `ms` for every request to end; resolves whether they did. */
  async #idle(ms: number): Promise<boolean> {
    const deadline = this.#o.now() + ms;
    const busy = () => [...this.#entries.values()].some((e) => e.busy > 0);
    while (busy() && this.#o.now() < deadline) {
      await this.#changes.wait(Math.min(100, deadline - this.#o.now()));
    }
    return !busy();
  }

  async #entry(id: string): Promise<Entry> {
    const known = this.#entries.get(id);
    if (known) return known;
    const record = await this.#o.registry.getKernel(id);
    if (!record || record.state === "closed") throw new KernelNotFoundError(id);
    // Another request may have made the entry while the registry answered.
    const entry = this.#entries.get(id) ??
      newEntry(id, this.#o.registry, true, record.lastActiveAt);
    this.#entries.set(id, entry);
    return entry;
  }

  #ensureLive(entry: Entry): Promise<SupervisedKernel> {
    if (entry.kernel) return Promise.resolve(entry.kernel);
    entry.starting ??= this.#start(entry).finally(() => entry.starting = undefined);
    return entry.starting;
  }

  async #start(entry: Entry): Promise<SupervisedKernel> {
    await entry.stopping?.catch(() => {});
    if (entry.revoked) {
      throw new Error(
        "This kernel moved to another host while the call waited; retry the call: its state is kept",
      );
    }
    const takenOver = await this.#takeLease(entry);
    try {
      return await this.#startLeased(entry, takenOver);
    } catch (error) {
      await this.#releaseLease(entry);
      throw error;
    }
  }

  /** Starts a kernel whose lease this host holds (or that needs none). */
  async #startLeased(entry: Entry, takenOver: string | undefined): Promise<SupervisedKernel> {
    await this.#admission.admit(entry.id, () => entry.reserved = true);
    try {
      const record = await entry.store.getKernel(entry.id);
      const logged = (await entry.store.cellsAfter(entry.id, record?.executionCount ?? 0)).at(-1);
      const kernel = await this.#o.startKernel(entry.id, {
        executionCount: Math.max(record?.executionCount ?? 0, logged?.cell ?? 0),
        slot: record?.slot ?? null,
        recordSlot: (slot) =>
          entry.store.updateKernel(entry.id, { slot }, { fence: this.#fence(entry) }),
        onRestart: async (control) => {
          const notice = await restoreLatest(entry.store, entry.id, control, this.#o);
          markSaved(entry);
          return describeRestart(notice);
        },
      });
      try {
        // Its files first: a restore may import modules from its folder.
        const missed = entry.persistent
          ? await this.#o.files?.restore(entry.id, entry.store, { exact: entry.arrived })
          : undefined;
        const notice = await restoreLatest(entry.store, entry.id, {
          restore: (body) => kernel.restore(body),
          restart: () => kernel.reset(),
        }, this.#o);
        // A loss this host has yet to hear told (kept across an eviction here) is said with the
        // new one; words a snapshot carried are said if no such loss is known here.
        const pendingHere = entry.notice?.lost;
        for (
          const words of [pendingHere ? undefined : notice.carried, missed, takenOver, pendingHere]
        ) {
          if (words) notice.lost = notice.lost ? `${words}; ${notice.lost}` : words;
        }
        if (notice.restoredFrom || notice.lost) {
          entry.notice = {
            restoredFrom: notice.restoredFrom,
            lost: notice.lost,
            found: ++this.#sequence,
            afterWait: entry.waitedForLease,
          };
        }
        await entry.store.updateKernel(entry.id, { state: "live" }, { fence: this.#fence(entry) });
        log("debug", "started a kernel", {
          kernel: entry.id,
          epoch: entry.lease?.epoch,
          executionCount: kernel.executionCount,
          restoredFrom: notice.restoredFrom?.version,
          lost: notice.lost,
        });
      } catch (error) {
        await kernel.close();
        throw error;
      }
      entry.kernel = kernel;
      return kernel;
    } finally {
      entry.reserved = false;
      this.#changes.notify();
    }
  }

  async #save(entry: Entry, yieldable: boolean): Promise<boolean> {
    try {
      // The fence as the save begins: a lease lost while it runs makes the write fail.
      const fence = this.#fence(entry);
      const saved = await saveEntry(entry, { ...this.#o, yieldable, fence });
      if (saved) {
        log("debug", "saved a kernel", {
          kernel: entry.id,
          epoch: fence?.epoch,
          version: saved.version,
          executionCount: saved.executionCount,
        });
      }
      entry.yields = 0;
      return true;
    } catch (error) {
      if ((error as Error).name === SAVE_YIELDED) {
        entry.yields++;
        return false;
      }
      if (error instanceof LeaseLostError) {
        // Refused by the fence in its transaction; said also when a renewal that answered
        // first already found the lease taken (and stopped the kernel).
        if (entry.lease) this.#lost(entry, "its late save was refused");
        else this.#o.log("a late save of a kernel whose lease was lost was refused");
        return false;
      }
      // Dropped meanwhile (its lease lost, or closed): the failure is that, already said.
      if (this.#entries.get(entry.id) !== entry) return false;
      // The kernel keeps running and stays dirty: a failed save never costs its state. It is
      // retried with a growing delay, logged once per run of failures (the reason is bounded:
      // it may quote the kernel).
      const reason = (error as Error).message.slice(0, 500);
      const attempts = (entry.saveFailure?.attempts ?? 0) + 1;
      const retryAt = this.#o.now() + retryDelayMs(attempts);
      if (attempts === 1) this.#o.log(`saving a kernel failed, will retry: ${reason}`);
      // The kernel's refuseLargeSave names its error so.
      const refused = (error as Error).name === "SaveRefusedError";
      entry.saveFailure = { reason, attempts, retryAt, refused };
      return false;
    }
  }

  async #flushActivity(): Promise<void> {
    for (const entry of this.#entries.values()) {
      if (!entry.touched) continue;
      entry.touched = false;
      // Without its lease here, another host may run it: its record is that host's to write.
      if (this.#o.lease && entry.persistent && !entry.lease) continue;
      try {
        await entry.store.updateKernel(entry.id, {
          lastActiveAt: entry.lastActive,
          ...(entry.kernel && { executionCount: entry.kernel.executionCount }),
        }, { fence: this.#fence(entry) });
      } catch (error) {
        if (error instanceof LeaseLostError) this.#lost(entry, TAKEN);
        else this.#o.log(`recording kernel activity failed: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Takes the kernel's lease for this host when leases are on and it holds none: at once if
   * free, else after asking the holder to hand it over and waiting for it (or for a dead
   * holder's lease to expire). Returns, in words, a takeover from a holder that died or stalled.
   *
   * @throws {KernelLeasedError} When the holder kept it through the whole wait.
   */
  async #takeLease(entry: Entry): Promise<string | undefined> {
    const lease = this.#o.lease;
    if (!lease || !entry.persistent || entry.lease) return undefined;
    const waitMs = lease.handoverWaitMs ?? handoverWaitMs(lease.ttlMs);
    for (let waited = 0;; waited += LEASE_POLL_MS) {
      const prior = await entry.store.getLease(entry.id);
      const asked = this.#o.now();
      const got = await entry.store.acquireLease(entry.id, lease.holder, lease.ttlMs);
      if (got.ok) {
        entry.lease = { holder: lease.holder, epoch: got.epoch };
        entry.leaseUntil = asked + lease.ttlMs;
        entry.arrived = prior !== undefined && prior.holder !== lease.holder;
        entry.waitedForLease = waited > 0;
        log("debug", "took a kernel's lease", {
          kernel: entry.id,
          epoch: got.epoch,
          from: prior?.holder,
          priorEpoch: prior?.epoch,
          released: prior?.expiresAt === 0,
        });
        // Taken although never released: its holder stopped renewing it.
        if (prior && prior.holder !== lease.holder && prior.expiresAt !== 0) {
          return `the host that ran this kernel (${prior.holder}) stopped renewing its lease ` +
            "(it died or stalled), so this host took the kernel over from its latest snapshot" +
            (this.#o.files && entry.persistent
              ? ", and its folder's files as that host last saved them (what its cells wrote, " +
                "changed or deleted there since is undone; uploads were saved as they came)"
              : "");
        }
        return undefined;
      }
      if (waited === 0) await entry.store.requestHandover(entry.id, lease.holder);
      if (waited >= waitMs) {
        throw new KernelLeasedError(entry.id, got.holder, got.expiresAt, waited);
      }
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
    }
  }

  /** At start: whether this host may rehydrate the kernel, taking its lease if so. */
  async #leaseForRehydration(entry: Entry): Promise<boolean> {
    const lease = this.#o.lease;
    if (!lease) return true;
    const prior = await entry.store.getLease(entry.id);
    if (prior && !(lease.formerSelf?.(prior.holder) ?? true)) return false;
    const got = await entry.store.acquireLease(entry.id, lease.holder, lease.ttlMs);
    if (!got.ok) return false;
    entry.lease = { holder: lease.holder, epoch: got.epoch };
    entry.leaseUntil = this.#o.now() + lease.ttlMs;
    entry.arrived = prior !== undefined && prior.holder !== lease.holder;
    return true;
  }

  /**
   * Whether the kernel's lease may have run out by this host's clock (the host was paused, say)
   * and another host took it: renews it first, and if that is refused, forgets the kernel here.
   */
  async #leaseLapsed(entry: Entry): Promise<boolean> {
    const lease = this.#o.lease;
    const fence = entry.lease;
    if (!lease || !fence || this.#o.now() < entry.leaseUntil) return false;
    const asked = this.#o.now();
    const { renewed } = await entry.store.renewLeases(lease.holder, lease.ttlMs, [
      { kernelId: entry.id, epoch: fence.epoch },
    ]);
    if (entry.lease !== fence) return false;
    if (renewed.length > 0) {
      entry.leaseUntil = asked + lease.ttlMs;
      return false;
    }
    this.#lost(entry, "another host took it while this host was not renewing; stopped it here");
    return true;
  }

  /**
   * Whether this host still holds the kernel's lease (renewing it), or needs none; `true` also
   * when the registry cannot say (the next renewal decides then).
   */
  async #stillLeased(entry: Entry): Promise<boolean> {
    const lease = this.#o.lease;
    const fence = entry.lease;
    if (!lease || !entry.persistent) return true;
    if (!fence) return false;
    try {
      const asked = this.#o.now();
      const { renewed } = await entry.store.renewLeases(lease.holder, lease.ttlMs, [
        { kernelId: entry.id, epoch: fence.epoch },
      ]);
      if (renewed.length === 0) return false;
      entry.leaseUntil = asked + lease.ttlMs;
      return true;
    } catch {
      return true;
    }
  }

  /**
   * The fence a write about this kernel carries: none without leases or for an ephemeral kernel;
   * else this host's lease, or, when it holds none, one that the registry refuses.
   */
  #fence(entry: Entry): LeaseFence | undefined {
    if (!this.#o.lease || !entry.persistent) return undefined;
    return entry.lease ?? NO_LEASE;
  }

  /** Frees the kernel's lease after its final save, for whichever host asks next. */
  async #releaseLease(entry: Entry): Promise<void> {
    const fence = entry.lease;
    if (!fence) return;
    entry.lease = undefined;
    log("debug", "releasing a kernel's lease", { kernel: entry.id, epoch: fence.epoch });
    await entry.store.releaseLease(entry.id, fence).catch((error) => {
      this.#o.log(`releasing a kernel's lease failed: ${(error as Error).message}`);
    });
  }

  /**
   * Another host holds the kernel now: stops it here at once, without saving (a save would be
   * refused), and forgets it; its next request here goes through acquisition again.
   */
  #lost(entry: Entry, why: string): void {
    const fence = entry.lease;
    if (!fence) return;
    entry.lease = undefined;
    entry.revoked = true;
    if (this.#entries.get(entry.id) === entry) this.#entries.delete(entry.id);
    const kernel = entry.kernel;
    entry.kernel = undefined;
    this.#o.log(`lost the lease of a kernel; ${why}`);
    log("debug", "lost the lease of a kernel", { kernel: entry.id, epoch: fence.epoch });
    void kernel?.close();
    this.#changes.notify();
  }

  /**
   * Renews the leases of this host's kernels in one call, about every second; stops those
   * another host took, hands over those another host asked for (when idle), and, when the
   * registry cannot be reached, stops those whose lease has run out by this host's clock.
   */
  async #renewLeases(): Promise<void> {
    const lease = this.#o.lease;
    if (!lease) return;
    const now = this.#o.now();
    if (now - this.#renewedAt < renewEveryMs(lease.ttlMs)) return;
    const held = [...this.#entries.values()].flatMap((e) =>
      e.lease ? [{ e, epoch: e.lease.epoch }] : []
    );
    if (held.length === 0) return;
    this.#renewedAt = now;
    const still = (h: { e: Entry; epoch: number }) => h.e.lease?.epoch === h.epoch;
    try {
      const renewal = await this.#o.registry.renewLeases(
        lease.holder,
        lease.ttlMs,
        held.map((h) => ({ kernelId: h.e.id, epoch: h.epoch })),
      );
      const renewed = new Set(renewal.renewed);
      for (const h of held.filter(still)) {
        if (renewed.has(h.e.id)) h.e.leaseUntil = now + lease.ttlMs;
        else this.#lost(h.e, TAKEN);
      }
      for (const id of renewal.wanted) {
        const entry = this.#entries.get(id);
        if (entry) void this.#handOver(entry);
      }
    } catch (error) {
      this.#o.log(`renewing kernel leases failed: ${(error as Error).message}`);
      for (const h of held.filter(still)) {
        if (now >= h.e.leaseUntil) this.#lost(h.e, "it ran out before it could be renewed");
      }
    }
  }

  /** Another host asked for the kernel: saves, stops and releases it here, once it is idle. */
  async #handOver(entry: Entry): Promise<void> {
    if (entry.handingOver || entry.busy > 0 || entry.starting) return;
    entry.handingOver = true;
    try {
      if (!entry.kernel) return await this.#releaseLease(entry);
      await this.#evict(entry.id);
    } catch (error) {
      this.#o.log(`handing a kernel over failed: ${(error as Error).message}`);
    } finally {
      entry.handingOver = false;
    }
  }
}
