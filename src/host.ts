/**
 * The host: composes the registry it is given, the supervisor and real kernels, and is the API
 * the MCP tools call, access rules included. Policy lives in the supervisor; what runs in a
 * kernel, in `kernel/`.
 *
 * @module
 */
import { type BackgroundCell, BackgroundCells, FINISHED_KEPT } from "./background_cells.ts";
import type { Config } from "./config.ts";
import { newId } from "./ids.ts";
import type { ExecuteOptions, ExecuteResult } from "./kernel/kernel_handle.ts";
import type { Completion, VariableDetail, VariableSummary } from "./kernel/protocol.ts";
import { hasLegacyFiles, removeKernelFolder, scratchFolder } from "./kernel_folder.ts";
import { log } from "./log.ts";
import { folderSync } from "./folder_sync.ts";
import { type HostIdentity, hostIdentity } from "./host_id.ts";
import { leaseName, lockName } from "./name_lock.ts";
import { BundleRenderer } from "./render/bundle_renderer.ts";
import { SandboxedKernels } from "./sandboxed_kernels.ts";
import { listScratchFiles, type ScratchFile } from "./scratch_files.ts";
import { Sessions } from "./sessions.ts";
import type { Registry } from "./registry/registry.ts";
import { KernelNotFoundError } from "./supervisor/errors.ts";
import type { KernelFactory } from "./supervisor/kernel_factory.ts";
import { type ShutdownReport, Supervisor } from "./supervisor/supervisor.ts";

export { CapacityError, KernelNotFoundError } from "./supervisor/errors.ts";
export type { ShutdownReport } from "./supervisor/supervisor.ts";

/** How often the retention policy runs (see `Host.sweep`). */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * How long `cancelCell` waits for the cell to end: a cancel's grace, and the restart of a kernel
 * whose code the interrupt could not reach.
 */
const CANCEL_WAIT_MS = 5000;

/** What `kernel_info` reports. Times are milliseconds since the epoch. */
export interface KernelInfo {
  kernel: string;
  createdAt: number;
  lastActive: number;
  executionCount: number;
  lastSavedAt: number | null;
  live: boolean;
  /** Resident memory of the kernel's sandbox process as it measures itself; `null` unless live. */
  memoryBytes: number | null;
}

/** What the host needs: the registry, the configuration's policy fields and test hooks. */
export type HostOptions =
  & Pick<
    Config,
    | "dataDir"
    | "cellTimeout"
    | "memoryLimit"
    | "maxKernels"
    | "spareKernels"
    | "saveInterval"
    | "saveEvery"
    | "idleTimeout"
    | "snapshotVersions"
    | "shutdownGrace"
    | "capacityWait"
    | "npmAllow"
    | "sessionIdleTimeout"
    | "retention"
    | "maxSessions"
    | "diskQuota"
    | "maxFiles"
    | "outputLimit"
    | "leaseTtl"
    | "port"
    | "stdio"
  >
  & {
    /** Where sessions, kernels and snapshots live; the host closes it at shutdown. */
    registry: Registry;
    /** The prelude's source (TypeScript), `""` for none (the config holds its file name). */
    preludeSource: string;
    /** What the prelude defines, for the server instructions (a built-in prelude says). */
    preludeDefines?: string;
    /** The clock, for tests (default `Date.now`). */
    now?: () => number;
    /** How often the supervisor applies its policy, in ms (default 1000). */
    tickMs?: number;
    /** Starts kernels (default: sandboxed, with spares; see `sandboxed_kernels.ts`); tests pass fakes. */
    startKernel?: KernelFactory;
    /**
     * Who this host is among the hosts of a shared registry (default: from the machine, port
     * and process; see `host_id.ts`). Unused unless the registry is shared.
     */
    identity?: HostIdentity;
  };

/**
 * Who is calling: a legacy HTTP session, the one stdio client (either era), or one request of the
 * 2026-07-28 revision over HTTP, which has no session and therefore no default kernel.
 */
export interface Caller {
  /** The kernel a call without a `kernel` argument uses; absent without a session. */
  defaultKernel?: string;
  /** The HTTP session id; absent for stdio and for sessionless requests. */
  sessionId?: string;
  /** Kernels a stdio caller created (an HTTP session's are in the registry). */
  created: Set<string>;
}

/** The caller of one sessionless (2026-07-28) HTTP request: every kernel is named by handle. */
export function sessionlessCaller(): Caller {
  return { created: new Set() };
}

/** Thrown when a sessionless call names no kernel. */
export class NoKernelError extends Error {
  constructor(options?: ErrorOptions) {
    super(
      "This call names no kernel, and without a session there is no default one: pass " +
        "`kernel` with the handle that execute or create_kernel returned. execute without a " +
        "kernel creates one and returns its handle.",
      options,
    );
    this.name = "NoKernelError";
  }
}

/** The limits every kernel of a host has, as a model is told them. */
export interface HostLimits {
  cellTimeoutS: number;
  memoryLimitMb: number;
  diskQuotaMb: number;
  /** A prelude runs in every new or reset kernel. */
  prelude: boolean;
  /** What it defines, when known (a built-in prelude's names). */
  preludeDefines?: string;
}

/** A kernel's state as results report it; see `Host.stateNotice`. Times are ms since the epoch. */
export interface KernelStateNotice {
  /** See `ExecuteResult.restoredFrom`. */
  restoredFrom?: { version: number; savedAt: number; unchecked?: string };
  lost?: string;
  saveFailed?: string;
}

/** One kernel as `list_kernels` shows it to its caller. Times are ms since the epoch. */
export interface KernelListing extends Omit<KernelInfo, "memoryBytes"> {
  /** The caller's default kernel. */
  default: boolean;
  /** Created by the caller, rather than a shared kernel it used. */
  owned: boolean;
}

/** Thrown when a caller may address a kernel but not do this to it (e.g. close it). */
export class KernelAccessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KernelAccessError";
  }
}

/** Thrown when `cell_status` names a cell its kernel does not have (any more). */
export class CellNotFoundError extends Error {
  constructor(cell: string, options?: ErrorOptions) {
    super(
      `Unknown cell ${cell} for this kernel: it never ran here, it was forgotten (each kernel ` +
        `keeps its last ${FINISHED_KEPT} finished cells), or the host restarted since and forgot ` +
        `its cells: one still running at a graceful stop was interrupted after the grace and ` +
        `its effects so far were saved (check the variables it sets before running it again); ` +
        `after a crash the kernel comes back from its last snapshot, and its next result says ` +
        `which cells were lost`,
      options,
    );
    this.name = "CellNotFoundError";
  }
}

/** Owns the registry and the supervisor; every kernel operation goes through it. */
export class Host {
  #options: HostOptions;
  #registry: Registry;
  #supervisor: Supervisor;
  #now: () => number;
  /** Releases the names this process holds (`--kernel NAME`). */
  #locks: (() => Promise<void> | void)[] = [];
  /** This host among the hosts of a shared registry; absent when the registry is not shared. */
  readonly identity?: HostIdentity;
  /** Ids of the named kernels this process holds; other named kernels are not addressable. */
  #held = new Set<string>();
  /** Ids already found addressable; see `hasKernel`. */
  #addressable = new Set<string>();
  #cells: BackgroundCells;
  /** The real kernels and their spares, unless a test passed its own factory. */
  #kernels?: SandboxedKernels;
  /** Draws the SVG of results as PNG and bounds their images, for models. */
  #renderer = new BundleRenderer();
  /** The MCP sessions and the kernels they use. */
  readonly sessions: Sessions;
  /** Runs `sweep` every minute. */
  #sweeper: ReturnType<typeof setInterval>;

  /** @param options The registry (owned from now on), limits and policy. */
  constructor(options: HostOptions) {
    this.#options = options;
    this.#registry = options.registry;
    this.#now = options.now ?? Date.now;
    this.#cells = new BackgroundCells(this.#now);
    if (options.registry.shared) {
      this.identity = options.identity ?? hostIdentity(options.stdio ? "stdio" : options.port);
    }
    this.#supervisor = new Supervisor({
      registry: options.registry,
      startKernel: options.startKernel ?? (this.#kernels = new SandboxedKernels({
        dataDir: options.dataDir,
        spares: options.spareKernels,
        memoryLimitMb: options.memoryLimit,
        cellTimeoutMs: options.cellTimeout * 1000,
        prelude: options.preludeSource,
        npmAllow: options.npmAllow,
        diskQuota: { bytes: options.diskQuota * 1e6, files: options.maxFiles },
      })).start,
      maxKernels: options.maxKernels,
      saveIntervalMs: options.saveInterval * 1000,
      saveEvery: options.saveEvery,
      idleTimeoutMs: options.idleTimeout * 1000,
      capacityWaitMs: options.capacityWait * 1000,
      snapshotVersions: options.snapshotVersions,
      now: this.#now,
      ...(options.tickMs !== undefined && { tickMs: options.tickMs }),
      ...(this.identity && {
        lease: { ...this.identity, ttlMs: options.leaseTtl * 1000 },
        files: folderSync({ dataDir: options.dataDir, quotaBytes: options.diskQuota * 1e6 }),
      }),
    });
    this.sessions = new Sessions({
      registry: options.registry,
      now: this.#now,
      maxSessions: options.maxSessions,
      registerKernel: (id, owner) => this.registerKernel(id, owner),
      closeKernel: (id) => this.closeKernel(id),
    });
    this.#sweeper = setInterval(() => {
      this.sweep().catch((e) => log("warn", `retention sweep failed: ${(e as Error).message}`));
    }, SWEEP_INTERVAL_MS);
  }

  /** The default cell timeout in milliseconds. */
  get cellTimeoutMs(): number {
    return this.#options.cellTimeout * 1000;
  }

  /** Characters of text one tool result gives a model, about (`--output-limit`). */
  get outputLimit(): number {
    return this.#options.outputLimit;
  }

  /** How long a kernel may be idle before it is stopped (its state saved), in seconds. */
  get idleTimeoutS(): number {
    return this.#options.idleTimeout;
  }

  /** How long a stored kernel may be idle before it is deleted, in days; 0: never. */
  get retentionDays(): number {
    return this.#options.retention;
  }

  /** The limits a model is told about (see `mcp/instructions.ts`). */
  get limits(): HostLimits {
    return {
      cellTimeoutS: this.#options.cellTimeout,
      memoryLimitMb: this.#options.memoryLimit,
      diskQuotaMb: this.#options.diskQuota,
      prelude: this.#options.preludeSource !== "",
      ...(this.#options.preludeDefines !== undefined &&
        { preludeDefines: this.#options.preludeDefines }),
    };
  }

  /** The registry, for operators' tools and tests. */
  get registry(): Registry {
    return this.#registry;
  }

  /**
   * Where a kernel's files live: its scratch folder; `undefined` while it has none (a kernel
   * gets its folder slot at its first start, see `kernel_folder.ts`).
   */
  async scratchDir(id: string): Promise<string | undefined> {
    const record = await this.#supervisor.record(id);
    if (!record) return undefined;
    if (record.slot !== null || await hasLegacyFiles(this.#options.dataDir, id)) {
      return scratchFolder(this.#options.dataDir, record);
    }
    return undefined;
  }

  /**
   * A kernel's scratch folder for the host to read or write a client's file in, starting the
   * kernel first if it has no folder slot yet (it gets one at its start).
   */
  async filesFolder(id: string): Promise<string> {
    await this.#check(id);
    const record = await this.#supervisor.record(id);
    // A kernel with no slot gets one at its start, and files of the old layout move there.
    const found = record?.slot ? await this.scratchDir(id) : undefined;
    if (found) return found;
    await this.#supervisor.ensureLive(id);
    const made = await this.scratchDir(id);
    if (!made) throw new Error(`Cannot find the folder of kernel ${id}`);
    return made;
  }

  /**
   * The files of a kernel's scratch folder, at most `limit`, without starting it: from its folder
   * here, or, with a shared registry and the kernel not running here, as last saved (its folder
   * here may be stale or absent).
   */
  async listFiles(id: string, limit: number): Promise<ScratchFile[]> {
    if (this.identity && !this.isLive(id)) {
      return (await this.#registry.listFiles(id)).slice(0, limit)
        .map(({ path, size }) => ({ path, size }));
    }
    const folder = await this.scratchDir(id);
    return folder ? await listScratchFiles(folder, { limit }) : [];
  }

  /**
   * Runs `fn` on a kernel's scratch folder (see `filesFolder`). With a shared registry it runs
   * as a request to the kernel, so that the kernel is here (its lease taken, handed over if
   * another host runs it) and a write marks it changed, its files saved at once.
   */
  async useFiles<T>(
    id: string,
    fn: (folder: string) => Promise<T>,
    options: { writes: boolean },
  ): Promise<T> {
    if (!this.identity) return await fn(await this.filesFolder(id));
    await this.#check(id);
    return await this.#supervisor.run(id, async () => {
      const out = await fn(await this.filesFolder(id));
      // Written through to the registry before the reply: another host keeps it.
      if (options.writes) await this.#supervisor.saveFiles(id);
      return out;
    }, { mutates: options.writes });
  }

  // Access rules: which kernels a caller may address, create, close and list. Over HTTP a
  // kernel id is a capability any session may use; over stdio only the caller's own kernels
  // are addressable. Calls that are synchronous today are awaited: the registry is becoming
  // asynchronous.

  /**
   * The id a call addresses: `kernel`, or the caller's default kernel. Records a shared kernel's
   * use by an HTTP session, so that `list_kernels` shows it.
   *
   * @throws {KernelNotFoundError} When the caller cannot address that kernel.
   */
  async resolveKernel(caller: Caller, kernel?: string): Promise<string> {
    const id = kernel ?? caller.defaultKernel;
    if (id === undefined) throw new NoKernelError();
    const own = id === caller.defaultKernel || caller.created.has(id);
    // Over stdio only the caller's own kernels are addressable; with a session or without one
    // (HTTP), a handle is a capability.
    const http = caller.sessionId !== undefined || caller.defaultKernel === undefined;
    if (!(http || own) || !(await this.hasKernel(id))) {
      throw new KernelNotFoundError(id);
    }
    if (caller.sessionId && id !== caller.defaultKernel) {
      await this.sessions.recordUse(caller.sessionId, id);
    }
    if (!caller.sessionId && caller.defaultKernel === undefined) caller.created.add(id);
    return id;
  }

  /**
   * A new kernel for the caller: a session's is recorded and starts on first use; a sessionless
   * caller's is persistent, owned by no session, and kept until `close_kernel`; a stdio caller's
   * is ephemeral.
   */
  async createKernelFor(caller: Caller): Promise<string> {
    if (caller.sessionId || caller.defaultKernel === undefined) {
      if (!caller.sessionId) await this.sessions.checkRoom();
      const id = newId();
      await this.#supervisor.register(id, { ownerSession: caller.sessionId });
      if (!caller.sessionId) caller.created.add(id);
      return id;
    }
    const id = await this.createKernel({ persistent: false });
    caller.created.add(id);
    return id;
  }

  /**
   * Stops a kernel the caller created and deletes its state and files.
   *
   * @param options.by The caller; its default kernel ends with it and cannot be closed.
   * @throws {KernelAccessError} For the caller's default kernel or one it did not create.
   * @throws {KernelNotFoundError} When the caller cannot address that kernel.
   */
  async deleteKernel(id: string, options: { by: Caller }): Promise<void> {
    const caller = options.by;
    if (id === caller.defaultKernel) {
      throw new KernelAccessError(
        "Cannot close this session's default kernel: it ends with the session; " +
          "reset_kernel empties it",
      );
    }
    await this.resolveKernel(caller, id);
    // A session closes the kernels it created; a sessionless caller, those no session owns.
    const owner = caller.sessionId ?? (caller.defaultKernel === undefined ? null : undefined);
    if (owner !== undefined && (await this.registry.getKernel(id))?.ownerSession !== owner) {
      throw new KernelAccessError(
        `Cannot close kernel ${id}: only the session that created it can close it`,
      );
    }
    await this.closeKernel(id);
    caller.created.delete(id);
  }

  /** The kernels a caller owns or has used that still exist, its default kernel among them. */
  async listKernelsFor(caller: Caller): Promise<KernelListing[]> {
    const { sessionId } = caller;
    // Over stdio every kernel listed is the caller's own.
    const listed = sessionId
      ? (await this.sessions.kernels(sessionId)).map((k) => ({
        id: k.id,
        owned: k.ownerSession === sessionId,
      }))
      : [...(caller.defaultKernel ? [caller.defaultKernel] : []), ...caller.created]
        .map((id) => ({ id, owned: true }));
    const kernels: KernelListing[] = [];
    for (const { id, owned } of listed) {
      if (!(await this.hasKernel(id))) continue;
      const info = await this.kernelInfo(id);
      kernels.push({
        kernel: id,
        default: id === caller.defaultKernel,
        owned,
        createdAt: info.createdAt,
        lastActive: info.lastActive,
        executionCount: info.executionCount,
        lastSavedAt: info.lastSavedAt,
        live: info.live,
      });
    }
    return kernels;
  }

  /**
   * Starts a new kernel and returns its id.
   *
   * @param options.persistent Saved to the registry; else its state dies with the host.
   */
  async createKernel(
    options: { persistent: boolean; ownerSession?: string } = { persistent: true },
  ): Promise<string> {
    const id = newId();
    await this.#supervisor.create(id, options);
    return id;
  }

  /**
   * The persistent kernel saved under `name` (a `--kernel NAME`), created if new, and started.
   * Holds the name for this process.
   *
   * @throws {NameInUseError} When another live process holds the name.
   */
  async openNamedKernel(name: string): Promise<string> {
    if (this.identity) {
      const lease = await leaseName(this.#registry, name, {
        holder: this.identity.holder,
        ttlMs: this.#options.leaseTtl * 1000,
        warn: (message) => log("warn", message),
      });
      this.#locks.push(() => lease.release());
    } else {
      const file = await lockName(this.#options.dataDir, name);
      this.#locks.push(() => file.close());
    }
    const existing = await this.#registry.findKernelByName(name);
    if (existing) {
      this.#held.add(existing.id);
      await this.#supervisor.ensureLive(existing.id);
      return existing.id;
    }
    const id = newId();
    this.#held.add(id);
    await this.#supervisor.create(id, { persistent: true, name });
    return id;
  }

  /**
   * Records a persistent kernel for a session without starting it; it starts on first use.
   *
   * @param id The kernel id; a session's default kernel's is derived from the session's.
   */
  registerKernel(id: string, ownerSession: string): Promise<void> {
    return this.#supervisor.register(id, { ownerSession });
  }

  /**
   * Whether `id` names a kernel this host can serve. A named kernel held by another process is
   * not addressable: names live in their own namespace.
   */
  async hasKernel(id: string): Promise<boolean> {
    if (!await this.#supervisor.has(id)) return false;
    if (this.#addressable.has(id)) return true;
    const record = await this.#supervisor.record(id);
    const addressable = !record?.name || this.#held.has(id);
    // A kernel never gains or loses a name, so the answer can be kept while the kernel exists.
    if (addressable) this.#addressable.add(id);
    return addressable;
  }

  /**
   * Runs a cell; see `KernelHandle.execute` for its timeout, cancel and output options. The
   * result's bundles come rendered for a model (see `render/bundle_renderer.ts`).
   */
  async execute(id: string, code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    await this.#check(id);
    return await this.#renderer.renderResult(await this.#supervisor.execute(id, code, options));
  }

  /**
   * Starts a cell without waiting for it; it queues like any request to its kernel and runs
   * within its timeout whether or not its client stays. See {@linkcode cell}.
   */
  async startCell(
    id: string,
    code: string,
    options: { timeoutMs?: number } = {},
  ): Promise<BackgroundCell> {
    await this.#check(id);
    return this.#cells.start(
      id,
      async (onOutput, signal) =>
        await this.#renderer.renderResult(
          await this.#supervisor.execute(id, code, { ...options, onOutput, signal }),
        ),
    );
  }

  /**
   * Cancels a background cell of kernel `id` that still runs, as a client's cancel of a call
   * does (the kernel keeps its variables; code the interrupt cannot reach costs a restart from
   * the freshest snapshot), and returns it once it ended, or after 5 s, as {@linkcode cell}.
   *
   * @throws {CellNotFoundError} When the kernel has no such cell (any more).
   */
  async cancelCell(id: string, cell: string): Promise<BackgroundCell> {
    await this.#check(id);
    const found = await this.#cells.cancel(id, cell, CANCEL_WAIT_MS);
    if (!found) throw new CellNotFoundError(cell);
    return found;
  }

  /**
   * A background cell of kernel `id`: its output so far, and its result once done. Answered at
   * once, never queued behind the kernel's requests.
   *
   * @throws {CellNotFoundError} When the kernel has no such cell (any more).
   */
  async cell(id: string, cell: string): Promise<BackgroundCell> {
    await this.#check(id);
    const found = this.#cells.get(id, cell);
    if (!found) throw new CellNotFoundError(cell);
    return found;
  }

  /** Completion candidates at `cursor`. */
  async complete(id: string, code: string, cursor?: number): Promise<Completion> {
    await this.#check(id);
    return await this.#supervisor.run(id, (k) => k.complete(code, cursor), { mutates: false });
  }

  /** The kernel's user variables. */
  async variables(id: string): Promise<VariableSummary[]> {
    await this.#check(id);
    return await this.#supervisor.run(id, (k) => k.variables(), { mutates: false });
  }

  /** One variable in detail. */
  async inspect(id: string, name: string, depth?: number): Promise<VariableDetail> {
    await this.#check(id);
    return await this.#supervisor.run(id, (k) => k.inspect(name, depth), { mutates: false });
  }

  /**
   * Empties the kernel's namespace and re-runs the prelude, and saves it so: a crash before the
   * next save would otherwise bring back what the reset emptied. Resolves `false` when that
   * save failed.
   */
  async reset(id: string): Promise<boolean> {
    await this.#check(id);
    await this.#supervisor.run(id, (k) => k.reset());
    return await this.#supervisor.save(id);
  }

  /** Facts about a kernel, without starting it. */
  async kernelInfo(id: string): Promise<KernelInfo> {
    await this.#check(id);
    const record = await this.#supervisor.record(id);
    const now = this.#now();
    return {
      kernel: id,
      createdAt: record?.createdAt ?? now,
      lastActive: record?.lastActiveAt ?? now,
      executionCount: this.#supervisor.executionCountOf(id) ?? record?.executionCount ?? 0,
      lastSavedAt: record?.lastSavedAt ?? null,
      live: this.#supervisor.isLive(id),
      memoryBytes: await this.#supervisor.memoryBytesOf(id),
    };
  }

  async #check(id: string): Promise<void> {
    if (!await this.hasKernel(id)) throw new KernelNotFoundError(id);
  }

  /**
   * What the next `execute` of kernel `id` will report about its state (a restore and what it
   * lost, a failed save), without using it up: other tools show it too.
   */
  stateNotice(id: string): KernelStateNotice {
    return this.#supervisor.stateNotice(id);
  }

  /** Saves a kernel now if it changed since its last save; see `Supervisor.save` for `periodic`. */
  save(id: string, options: { periodic?: boolean } = {}): Promise<boolean> {
    return this.#supervisor.save(id, options);
  }

  /** Saves and stops a kernel; it comes back with its state on its next request. */
  stopKernel(id: string): Promise<boolean> {
    return this.#supervisor.stop(id);
  }

  /** Whether the kernel runs in a sandbox now. */
  isLive(id: string): boolean {
    return this.#supervisor.isLive(id);
  }

  /** Stops a kernel and deletes its state and its scratch folder. */
  async closeKernel(id: string): Promise<void> {
    this.#addressable.delete(id);
    const folder = await this.#supervisor.record(id) ?? { id, slot: null };
    await this.#supervisor.close(id);
    this.#cells.forget(id);
    await removeKernelFolder(this.#options.dataDir, folder).catch(() => {});
  }

  /** Starts the kernels that were live when the host last stopped; see `Supervisor.rehydrate`. */
  rehydrate(): Promise<void> {
    return this.#supervisor.rehydrate();
  }

  /**
   * Applies the retention policy once: ends 2025-11-25 sessions idle longer than
   * `--session-idle-timeout` (their kernels stay), and deletes stored kernels idle longer than
   * `--retention` days, named ones excepted. Runs every minute; returns what it did.
   */
  async sweep(): Promise<{ sessionsEnded: number; kernelsDeleted: number }> {
    const sessionsEnded = await this.sessions.expire(this.#options.sessionIdleTimeout * 1000);
    let kernelsDeleted = 0;
    if (this.#options.retention > 0) {
      const idleBefore = this.#now() - this.#options.retention * 86_400_000;
      const old = await this.#registry.listKernels({ state: "stored", named: false, idleBefore });
      for (const kernel of old) {
        if (this.isLive(kernel.id)) continue;
        await this.closeKernel(kernel.id);
        kernelsDeleted++;
      }
    }
    if (sessionsEnded + kernelsDeleted > 0) {
      log("info", "retention: ended idle sessions and deleted idle kernels", {
        sessionsEnded,
        kernelsDeleted,
      });
    }
    return { sessionsEnded, kernelsDeleted };
  }

  /**
   * Stops accepting requests, lets running cells finish within the shutdown grace, saves every
   * kernel, stops them and closes the registry. Returns what was saved and what could not be.
   */
  async shutdown(): Promise<ShutdownReport> {
    clearInterval(this.#sweeper);
    // Ephemeral kernels' records die with the supervisor: their folders are looked up first.
    const ephemeral = await Promise.all(
      this.#supervisor.ephemeralIds().map(async (id) =>
        await this.#supervisor.record(id) ?? { id, slot: null }
      ),
    );
    const report = await this.#supervisor.shutdown(this.#options.shutdownGrace * 1000);
    await this.#kernels?.close();
    for (const kernel of ephemeral) {
      await removeKernelFolder(this.#options.dataDir, kernel).catch(() => {});
    }
    for (const release of this.#locks) {
      await Promise.resolve(release()).catch((e) => log("warn", `releasing a name: ${e}`));
    }
    this.#locks = [];
    await this.#registry.close();
    await this.#renderer.close();
    return report;
  }
}
