/**
 * The host: composes the registry and the supervisor, and is the API the MCP tools call.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { ExecuteResult } from "./kernel/kernel_handle.ts";
import type { Completion, VariableDetail, VariableSummary } from "./kernel/protocol.ts";
import { lockName } from "./name_lock.ts";
import type { KernelRecord, Registry, SessionRecord } from "./registry/registry.ts";
import { openSqliteRegistry } from "./registry/sqlite_registry.ts";
import { KernelNotFoundError, Supervisor } from "./supervisor/supervisor.ts";

export { CapacityError, KernelNotFoundError } from "./supervisor/supervisor.ts";

/** What `kernel_info` reports. Times are milliseconds since the epoch. */
export interface KernelInfo {
  kernel: string;
  createdAt: number;
  lastActive: number;
  executionCount: number;
  lastSavedAt: number | null;
  live: boolean;
  /** Resident memory of the kernel's sandbox process, when live and measurable. */
  memoryBytes: number | null;
}

/** What the host needs: the configuration's policy fields, the prelude's source and test hooks. */
export type HostOptions =
  & Pick<
    Config,
    | "dataDir"
    | "cellTimeout"
    | "memoryLimit"
    | "maxKernels"
    | "saveInterval"
    | "saveEvery"
    | "idleTimeout"
    | "snapshotVersions"
    | "shutdownGrace"
    | "capacityWait"
  >
  & {
    /** Prelude source (TypeScript), `""` for none (the config holds its file name). */
    prelude: string;
    /** The clock, for tests (default `Date.now`). */
    now?: () => number;
    /** How often the supervisor applies its policy, in ms (default 1000). */
    tickMs?: number;
  };

/** Who is calling: an HTTP session, or the one stdio client. */
export interface Caller {
  /** The session's default kernel. */
  defaultKernel: string;
  /** The HTTP session id; absent for stdio, whose created kernels are ephemeral. */
  sessionId?: string;
  /** Kernels a stdio caller created (an HTTP session's are in the registry). */
  created: Set<string>;
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

/** Owns the registry and the supervisor; every kernel operation goes through it. */
export class Host {
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
    const own = id === caller.defaultKernel || caller.created.has(id);
    if (!(caller.sessionId || own) || !(await this.hasKernel(id))) {
      throw new KernelNotFoundError(id);
    }
    if (caller.sessionId && id !== caller.defaultKernel) {
      await this.recordKernelUse(caller.sessionId, id);
    }
    return id;
  }

  /**
   * A new kernel for the caller. An HTTP session's is registered, owned by the session and
   * started on first use; a stdio caller's is ephemeral and added to `caller.created`.
   */
  async createKernelFor(caller: Caller): Promise<string> {
    if (caller.sessionId) {
      const id = newKernelId();
      await this.registerKernel(id, caller.sessionId);
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
    if (
      caller.sessionId && (await this.registry.getKernel(id))?.ownerSession !== caller.sessionId
    ) {
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
      ? (await this.sessionKernels(sessionId)).map((k) => ({
        id: k.id,
        owned: k.ownerSession === sessionId,
      }))
      : [caller.defaultKernel, ...caller.created].map((id) => ({ id, owned: true }));
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

  #options: HostOptions;
  #registry: Registry;
  #supervisor: Supervisor;
  #locks: Deno.FsFile[] = [];
  /** Ids of the named kernels this process holds; other named kernels are not addressable. */
  #held = new Set<string>();
  /** When each open session's activity was last written; see `touchSession`. */
  #sessionTouched = new Map<string, number>();
  /** Ids already found addressable; see `hasKernel`. */
  #addressable = new Set<string>();

  private constructor(options: HostOptions, registry: Registry) {
    this.#options = options;
    this.#registry = registry;
    this.#supervisor = new Supervisor({
      registry,
      kernelOptions: (id) => ({
        scratchDir: this.scratchDir(id),
        memoryLimitMb: options.memoryLimit,
        cellTimeoutMs: options.cellTimeout * 1000,
        prelude: options.prelude,
      }),
      maxKernels: options.maxKernels,
      saveIntervalMs: options.saveInterval * 1000,
      saveEvery: options.saveEvery,
      idleTimeoutMs: options.idleTimeout * 1000,
      capacityWaitMs: options.capacityWait * 1000,
      snapshotVersions: options.snapshotVersions,
      ...(options.now && { now: options.now }),
      ...(options.tickMs && { tickMs: options.tickMs }),
    });
  }

  /** Opens the registry at `<dataDir>/registry.db` (created on first use). */
  static async open(options: HostOptions): Promise<Host> {
    await Deno.mkdir(options.dataDir, { recursive: true });
    return new Host(options, openSqliteRegistry(join(options.dataDir, "registry.db")));
  }

  /** The default cell timeout in milliseconds. */
  get cellTimeoutMs(): number {
    return this.#options.cellTimeout * 1000;
  }

  /** The registry, for operators' tools and tests. */
  get registry(): Registry {
    return this.#registry;
  }

  /** Where a kernel's files live: its scratch folder. */
  scratchDir(id: string): string {
    return join(this.#options.dataDir, "kernels", id, "files");
  }

  /**
   * Starts a new kernel and returns its id: 256 random bits, base64url.
   *
   * @param options.persistent Saved to the registry; else its state dies with the host.
   */
  async createKernel(
    options: { persistent: boolean; ownerSession?: string } = { persistent: true },
  ): Promise<string> {
    const id = newKernelId();
    await this.#supervisor.create(id, options);
    return id;
  }

  /**
   * The persistent kernel saved under `name` (a `--kernel NAME`), created if new. Holds the
   * name for this process.
   *
   * @throws {NameInUseError} When another live process holds the name.
   */
  async openNamedKernel(name: string): Promise<string> {
    this.#locks.push(await lockName(this.#options.dataDir, name));
    const existing = this.#registry.findKernelByName(name);
    if (existing) {
      this.#held.add(existing.id);
      await this.#supervisor.run(existing.id, () => Promise.resolve(), { mutates: false });
      return existing.id;
    }
    const id = newKernelId();
    this.#held.add(id);
    await this.#supervisor.create(id, { persistent: true, name });
    return id;
  }

  /**
   * Records a persistent kernel for a session without starting it; it starts on first use.
   *
   * @param id The kernel id; a session's default kernel has the session's id.
   */
  registerKernel(id: string, ownerSession: string): void {
    this.#supervisor.register(id, { ownerSession });
  }

  /**
   * Whether `id` names a kernel this host can serve. A named kernel held by another process is
   * not addressable: names live in their own namespace.
   */
  hasKernel(id: string): boolean {
    if (!this.#supervisor.has(id)) return false;
    if (this.#addressable.has(id)) return true;
    const record = this.#registry.getKernel(id);
    const addressable = !record?.name || this.#held.has(id);
    // A kernel never gains or loses a name, so the answer can be kept while the kernel exists.
    if (addressable) this.#addressable.add(id);
    return addressable;
  }

  /** Runs a cell; see `KernelHandle.execute`. */
  execute(id: string, code: string, timeoutMs?: number): Promise<ExecuteResult> {
    this.#check(id);
    return this.#supervisor.execute(id, code, timeoutMs);
  }

  /** Completion candidates at `cursor`. */
  complete(id: string, code: string, cursor?: number): Promise<Completion> {
    this.#check(id);
    return this.#supervisor.run(id, (k) => k.complete(code, cursor), { mutates: false });
  }

  /** The kernel's user variables. */
  variables(id: string): Promise<VariableSummary[]> {
    this.#check(id);
    return this.#supervisor.run(id, (k) => k.variables(), { mutates: false });
  }

  /** One variable in detail. */
  inspect(id: string, name: string, depth?: number): Promise<VariableDetail> {
    this.#check(id);
    return this.#supervisor.run(id, (k) => k.inspect(name, depth), { mutates: false });
  }

  /** Empties the kernel's namespace and re-runs the prelude. */
  reset(id: string): Promise<void> {
    this.#check(id);
    return this.#supervisor.run(id, (k) => k.reset());
  }

  /** Facts about a kernel, without starting it. */
  async kernelInfo(id: string): Promise<KernelInfo> {
    this.#check(id);
    const record = this.#registry.getKernel(id);
    const live = this.#supervisor.isLive(id);
    const now = this.#options.now?.() ?? Date.now();
    return {
      kernel: id,
      createdAt: record?.createdAt ?? now,
      lastActive: record?.lastActiveAt ?? now,
      executionCount: this.#supervisor.executionCountOf(id) ?? record?.executionCount ?? 0,
      lastSavedAt: record?.lastSavedAt ?? null,
      live,
      memoryBytes: await residentBytes(this.#supervisor.pidOf(id)),
    };
  }

  /** Kernels a session owns or has used. */
  sessionKernels(sessionId: string): KernelRecord[] {
    return this.#registry.kernelsOfSession(sessionId);
  }

  /** Notes that a session used a kernel it may not own (a shared kernel id). */
  recordKernelUse(sessionId: string, kernelId: string): void {
    this.#registry.recordKernelUse(sessionId, kernelId, this.#options.now?.() ?? Date.now());
  }

  /**
   * Records a new session with its default kernel (same id, started on first use).
   *
   * @param metadata Kept with the session, e.g. its `initialize` parameters for a resume.
   */
  openSession(id: string, metadata: Record<string, unknown>): void {
    this.#registry.createSession({ id, now: this.#options.now?.() ?? Date.now(), metadata });
    this.registerKernel(id, id);
  }

  /** A session that exists and has not ended. */
  session(id: string): SessionRecord | undefined {
    const session = this.#registry.getSession(id);
    return session && session.endedAt === null ? session : undefined;
  }

  /**
   * Marks a session active now. Called on every request, so the registry is written at most once
   * a second per session: the time only orders sessions for the operator.
   */
  touchSession(id: string): void {
    const now = this.#options.now?.() ?? Date.now();
    if (now - (this.#sessionTouched.get(id) ?? -Infinity) < 1000) return;
    this.#sessionTouched.set(id, now);
    this.#registry.touchSession(id, now);
  }

  /** Ends a session: its default kernel and the kernels it created are closed and deleted. */
  async endSession(id: string): Promise<void> {
    this.#sessionTouched.delete(id);
    for (const kernel of this.#registry.kernelsOfSession(id)) {
      if (kernel.ownerSession === id) await this.closeKernel(kernel.id);
    }
    this.#registry.endSession(id, this.#options.now?.() ?? Date.now());
  }

  #check(id: string): void {
    if (!this.hasKernel(id)) throw new KernelNotFoundError(id);
  }

  /** Saves a kernel now if it changed since its last save. */
  save(id: string): Promise<boolean> {
    return this.#supervisor.save(id);
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
    await this.#supervisor.close(id);
    await Deno.remove(join(this.#options.dataDir, "kernels", id), { recursive: true })
      .catch(() => {});
  }

  /** Starts the kernels that were live when the host last stopped; see `Supervisor.rehydrate`. */
  rehydrate(): Promise<void> {
    return this.#supervisor.rehydrate();
  }

  /**
   * Stops accepting requests, lets running cells finish within the shutdown grace, saves every
   * kernel, stops them and closes the registry.
   */
  async shutdown(): Promise<void> {
    const ephemeral = this.#supervisor.ephemeralIds();
    await this.#supervisor.shutdown(this.#options.shutdownGrace * 1000);
    for (const id of ephemeral) {
      await Deno.remove(join(this.#options.dataDir, "kernels", id), { recursive: true })
        .catch(() => {});
    }

    this.#registry.close();
    for (const lock of this.#locks) lock.close();
    this.#locks = [];
  }
}

/** Resident memory of a process from /proc (Linux), or `null` where it cannot be read. */
async function residentBytes(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const [, resident] = (await Deno.readTextFile(`/proc/${pid}/statm`)).split(" ");
    return Number(resident) * 4096;
  } catch {
    return null;
  }
}

/** 256 random bits in base64url: unguessable, and safe as a path segment. */
export function newKernelId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
