/**
 * The MCP sessions the registry records: opened at `initialize` with their default kernel,
 * resumed after a restart, touched by each request, ended by DELETE with the kernels they own.
 *
 * @module
 */
import { DefaultKernels } from "./default_kernel.ts";
import type { KernelRecord, Registry, SessionRecord } from "./registry/registry.ts";

/** What the session book needs from the host. */
export interface SessionsOptions {
  registry: Registry;
  now: () => number;
  /** Open sessions plus kernels created without one, at most (`--max-sessions`). */
  maxSessions: number;
  /** Records a session's default kernel, started on first use. */
  registerKernel: (id: string, ownerSession: string) => Promise<void>;
  /** Stops a kernel and deletes its state and files. */
  closeKernel: (id: string) => Promise<void>;
}

/** Sessions and the kernels they use; owned by the host (`host.sessions`). */
export class Sessions {
  #o: SessionsOptions;
  /** When each open session's activity was last written; see `touch`. */
  #touched = new Map<string, number>();
  #defaults: DefaultKernels;
  #ended = new Set<(id: string) => void>();

  /** @param options The registry, the clock and the host's kernel operations. */
  constructor(options: SessionsOptions) {
    this.#o = options;
    this.#defaults = new DefaultKernels(options.registry);
  }

  /**
   * The id of session `id`'s default kernel, derived from the session id (see
   * `default_kernel.ts`); a session recorded when the two ids were equal keeps its kernel.
   */
  async defaultKernelOf(id: string): Promise<string> {
    const old = await this.#o.registry.getKernel(id);
    return await this.#defaults.of(id, { legacy: old?.ownerSession === id });
  }

  /**
   * Whether a new session, or a kernel created without one, fits under `--max-sessions`.
   *
   * @throws {TooManySessionsError} When it does not.
   */
  async checkRoom(): Promise<void> {
    const { openSessions, sessionlessKernels } = await this.#o.registry.counts();
    if (openSessions + sessionlessKernels >= this.#o.maxSessions) {
      throw new TooManySessionsError(this.#o.maxSessions);
    }
  }

  /** Calls `listener` with the id of each session this host ends for idleness. */
  onEnded(listener: (id: string) => void): () => void {
    this.#ended.add(listener);
    return () => this.#ended.delete(listener);
  }

  /**
   * Ends the sessions idle longer than `idleMs`: their ids get 404 from now on, and their
   * kernels stay stored (any holder of a kernel id may still use it; `--retention` deletes them
   * later). Returns how many were ended.
   */
  async expire(idleMs: number): Promise<number> {
    const now = this.#o.now();
    const idle = await this.#o.registry.listSessions({ open: true, idleBefore: now - idleMs });
    for (const session of idle) {
      this.#touched.delete(session.id);
      await this.#o.registry.updateSession(session.id, { endedAt: now });
      for (const listener of this.#ended) listener(session.id);
    }
    return idle.length;
  }

  /**
   * Records a new session with its default kernel (started on first use).
   *
   * @param metadata Kept with the session, e.g. its `initialize` parameters for a resume.
   * @returns The default kernel's id.
   */
  async open(id: string, metadata: Record<string, unknown>): Promise<string> {
    await this.#o.registry.createSession({ id, now: this.#o.now(), metadata });
    const kernel = await this.#defaults.of(id);
    await this.#o.registerKernel(kernel, id);
    return kernel;
  }

  /** Notes that a stored session was brought back to the initialized state (a resume). */
  resume(id: string): Promise<void> {
    const now = this.#o.now();
    return this.#o.registry.updateSession(id, { lastInitializedAt: now, lastActiveAt: now });
  }

  /** A session that exists and has not ended. */
  async get(id: string): Promise<SessionRecord | undefined> {
    const session = await this.#o.registry.getSession(id);
    return session && session.endedAt === null ? session : undefined;
  }

  /**
   * Marks a session active now. Called on every request, so the registry is written at most once
   * a second per session: the time only orders sessions for the operator.
   */
  async touch(id: string): Promise<void> {
    const now = this.#o.now();
    if (now - (this.#touched.get(id) ?? -Infinity) < 1000) return;
    this.#touched.set(id, now);
    await this.#o.registry.updateSession(id, { lastActiveAt: now });
  }

  /** Ends a session: its default kernel and the kernels it created are closed and deleted. */
  async end(id: string): Promise<void> {
    this.#touched.delete(id);
    for (const kernel of await this.#o.registry.kernelsOfSession(id)) {
      if (kernel.ownerSession === id) await this.#o.closeKernel(kernel.id);
    }
    await this.#o.registry.updateSession(id, { endedAt: this.#o.now() });
  }

  /** Kernels a session owns or has used. */
  kernels(sessionId: string): Promise<KernelRecord[]> {
    return this.#o.registry.kernelsOfSession(sessionId);
  }

  /** Notes that a session used a kernel it may not own (a shared kernel id). */
  recordUse(sessionId: string, kernelId: string): Promise<void> {
    return this.#o.registry.recordKernelUse(sessionId, kernelId, this.#o.now());
  }
}

/** Thrown when a new session would exceed `--max-sessions`. */
export class TooManySessionsError extends Error {
  constructor(max: number) {
    super(
      `Too many open sessions: this host keeps at most ${max.toLocaleString("en-US")} ` +
        "(sessions plus kernels created without one, --max-sessions); idle sessions end after " +
        "--session-idle-timeout, or end one with DELETE",
    );
    this.name = "TooManySessionsError";
  }
}
