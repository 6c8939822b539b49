/**
 * The host: owns the kernels and is the API the MCP tools call. (The supervisor and the
 * registry join it in later steps; for now every kernel is live and ephemeral.)
 *
 * @module
 */
import { join } from "node:path";
import { type ExecuteResult, KernelHandle } from "./kernel/kernel_handle.ts";
import type { Completion, VariableDetail, VariableSummary } from "./kernel/protocol.ts";

/** What the host needs from the configuration. */
export interface HostOptions {
  dataDir: string;
  /** Default cell timeout in seconds. */
  cellTimeout: number;
  /** Memory limit per kernel in MB. */
  memoryLimit: number;
  /** Prelude source (TypeScript), `""` for none. */
  prelude: string;
}

/** Thrown for a kernel id the host does not know; the tools report it to the model. */
export class KernelNotFoundError extends Error {
  /** @param id The unknown kernel id. */
  constructor(id: string) {
    super(`No kernel with id "${id}": it was never created here, or it was closed`);
    this.name = "KernelNotFoundError";
  }
}

/** Owns live kernels by id. */
export class Host implements AsyncDisposable {
  #options: HostOptions;
  #kernels = new Map<string, Promise<KernelHandle>>();

  /** @param options Data folder, limits and prelude. */
  constructor(options: HostOptions) {
    this.#options = options;
  }

  /** The default cell timeout in milliseconds. */
  get cellTimeoutMs(): number {
    return this.#options.cellTimeout * 1000;
  }

  /** Starts a new kernel and returns its id: 256 random bits, base64url. */
  async createKernel(): Promise<string> {
    const id = newKernelId();
    const handle = KernelHandle.start({
      scratchDir: this.#scratchDir(id),
      memoryLimitMb: this.#options.memoryLimit,
      cellTimeoutMs: this.cellTimeoutMs,
      prelude: this.#options.prelude,
    });
    this.#kernels.set(id, handle);
    try {
      await handle;
    } catch (error) {
      this.#kernels.delete(id);
      throw error;
    }
    return id;
  }

  /** Runs a cell; see {@linkcode KernelHandle.execute}. */
  async execute(id: string, code: string, timeoutMs?: number): Promise<ExecuteResult> {
    return (await this.#kernel(id)).execute(code, { timeoutMs });
  }

  /** Completion candidates; see {@linkcode KernelHandle.complete}. */
  async complete(id: string, code: string, cursor?: number): Promise<Completion> {
    return (await this.#kernel(id)).complete(code, cursor);
  }

  /** The kernel's user variables. */
  async variables(id: string): Promise<VariableSummary[]> {
    return (await this.#kernel(id)).variables();
  }

  /** One variable in detail. */
  async inspect(id: string, name: string, depth?: number): Promise<VariableDetail> {
    return (await this.#kernel(id)).inspect(name, depth);
  }

  /** Empties the kernel's namespace and re-runs the prelude. */
  async reset(id: string): Promise<void> {
    await (await this.#kernel(id)).reset();
  }

  /** Stops a kernel and deletes its scratch folder. */
  async closeKernel(id: string): Promise<void> {
    const handle = await this.#kernel(id);
    this.#kernels.delete(id);
    await handle.close();
    await Deno.remove(join(this.#options.dataDir, "kernels", id), { recursive: true })
      .catch(() => {});
  }

  /** Stops every kernel. */
  async close(): Promise<void> {
    await Promise.all([...this.#kernels.keys()].map((id) => this.closeKernel(id)));
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #kernel(id: string): Promise<KernelHandle> {
    const handle = this.#kernels.get(id);
    if (!handle) throw new KernelNotFoundError(id);
    return handle;
  }

  #scratchDir(id: string): string {
    return join(this.#options.dataDir, "kernels", id, "files");
  }
}

/** 256 random bits in base64url: unguessable, and safe as a path segment. */
export function newKernelId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
