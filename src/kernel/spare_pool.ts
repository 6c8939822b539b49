/**
 * Sandboxes started ahead of need, so that a new kernel is ready at once instead of after a
 * process start (60–100 ms). A sandbox's permission flags name its one scratch folder, fixed
 * at spawn, so each spare is started in a folder slot of its own, and the kernel it is bound to
 * takes that slot as its scratch folder for life.
 *
 * The pool keeps `size` spares: a spare taken is replaced in the background, a little later so
 * that the spawn does not compete with the taker's first request; a spare that dies is replaced;
 * one that fails to start, or dies right after, is not retried until the next take (no crash
 * loop). Spares are not
 * kernels: they run only the prelude, hold no state and count against no kernel cap.
 *
 * @module
 */
import type { SandboxProcess } from "./sandbox_process.ts";

/** What the pool needs of a sandbox; `SandboxProcess` is the real one. */
export type SpareSandbox = Pick<SandboxProcess, "running" | "exited" | "close" | "residentBytes">;

/** A started sandbox that no kernel uses yet, and the folder slot its flags name. */
export interface Spare<S extends SpareSandbox = SandboxProcess> {
  slot: string;
  sandbox: S;
}

/** How the pool starts and drops spares. */
export interface SparePoolOptions<S extends SpareSandbox> {
  /** Spares kept started; 0 turns the pool off (`take` answers `undefined`). */
  size: number;
  /** Starts a sandbox in a new, empty slot; on failure it leaves nothing behind. */
  spawn: () => Promise<Spare<S>>;
  /** Deletes the folder of a slot whose spare was never bound (it died, or the pool closed). */
  discard: (slot: string) => Promise<void>;
  /** Delay between a take and the start of its replacement, in ms (default 100). */
  refillDelayMs?: number;
  /** Where problems are reported (default: nowhere). */
  log?: (message: string) => void;
}

/** A spare that exits this soon after its start counts as one that failed to start. */
const EARLY_EXIT_MS = 1000;

interface Member<S extends SpareSandbox> {
  /** Resolves with the spare once started, or `undefined` if it failed to start. */
  ready: Promise<Spare<S> | undefined>;
  spare?: Spare<S>;
  /** When it became ready (`performance.now()`). */
  readyAt?: number;
}

/** A pool of started sandboxes; see the module doc. Close it with `close()`. */
export class SparePool<S extends SpareSandbox = SandboxProcess> {
  #o: Required<SparePoolOptions<S>>;
  /** Spares started or starting and not taken, oldest first. */
  #members: Member<S>[] = [];
  #closed = false;
  #refill?: ReturnType<typeof setTimeout>;
  /** Set after a spare failed to start: no more starts until the next take. */
  #failing = false;
  /** Spares handed out so far. */
  taken = 0;

  /** Starts filling at once. */
  constructor(options: SparePoolOptions<S>) {
    this.#o = { refillDelayMs: 100, log: () => {}, ...options };
    this.#fill();
  }

  /**
   * A started spare, no longer the pool's: a ready one, else the one starting longest (its start
   * began before any start the caller could begin now). `undefined` when there is none, the
   * pool is off or closed, or the spare failed to start: the caller then starts a sandbox itself.
   */
  async take(): Promise<Spare<S> | undefined> {
    if (this.#closed) return undefined;
    const member = this.#members.find((m) => m.spare?.sandbox.running) ??
      this.#members.find((m) => !m.spare);
    this.#failing = false;
    this.#scheduleFill();
    if (!member) return undefined;
    this.#remove(member);
    const spare = member.spare ?? await member.ready;
    if (!spare) return undefined;
    if (!spare.sandbox.running) {
      await this.#o.discard(spare.slot).catch(() => {});
      return undefined;
    }
    this.taken++;
    return spare;
  }

  /** Resolves once the spares starting now have started (or failed), with how many are ready. */
  async filled(): Promise<number> {
    await Promise.all(this.#members.map((m) => m.ready));
    return this.#members.filter((m) => m.spare?.sandbox.running).length;
  }

  /** Resident memory of each ready spare, in bytes, as each sandbox measures itself. */
  async residentBytes(): Promise<number[]> {
    const ready = this.#members.flatMap((m) => m.spare ? [m.spare.sandbox] : []);
    const sizes = await Promise.all(ready.map((sandbox) => sandbox.residentBytes()));
    return sizes.filter((bytes) => bytes !== undefined);
  }

  /** Stops every spare and deletes its slot; later takes answer `undefined`. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refill);
    const members = this.#members.splice(0);
    await Promise.all(members.map(async (member) => {
      const spare = await member.ready;
      if (!spare) return;
      await spare.sandbox.close();
      await this.#o.discard(spare.slot).catch(() => {});
    }));
  }

  #scheduleFill(): void {
    if (this.#refill !== undefined || this.#closed) return;
    this.#refill = setTimeout(() => {
      this.#refill = undefined;
      this.#fill();
    }, this.#o.refillDelayMs);
  }

  #fill(): void {
    while (!this.#closed && !this.#failing && this.#members.length < this.#o.size) {
      this.#members.push(this.#start());
    }
  }

  #start(): Member<S> {
    const member: Member<S> = { ready: Promise.resolve(undefined) };
    member.ready = this.#o.spawn().then((spare) => {
      member.spare = spare;
      member.readyAt = performance.now();
      void spare.sandbox.exited.then(() => this.#died(member));
      return spare;
    }, (error) => {
      this.#remove(member);
      this.#failing = true;
      this.#o.log(`a spare sandbox failed to start: ${(error as Error).message}`);
      return undefined;
    });
    return member;
  }

  /** A spare that exited while still the pool's is replaced. */
  #died(member: Member<S>): void {
    if (!this.#remove(member)) return;
    this.#o.discard(member.spare!.slot).catch(() => {});
    if (performance.now() - member.readyAt! < EARLY_EXIT_MS) {
      this.#failing = true;
      this.#o.log("a spare sandbox exited right after its start; not replaced until a take");
      return;
    }
    this.#o.log("a spare sandbox exited; starting another");
    this.#fill();
  }

  #remove(member: Member<S>): boolean {
    const at = this.#members.indexOf(member);
    if (at >= 0) this.#members.splice(at, 1);
    return at >= 0;
  }
}
