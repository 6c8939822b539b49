/**
 * One life of a kernel's sandbox process, seen from the host: spawn it with its permission flags
 * and a cleared environment, send requests, collect replies and the output around them, and
 * learn how it ended.
 *
 * @module
 */
import { deadline, TIMED_OUT } from "./deadline.ts";
import { DENIED_ENV, emptyHome, sandboxEnv } from "./deno_env.ts";
import { concat } from "./bytes.ts";
import { type Attachment, FrameDecoder } from "./frames.ts";
import { OutputBuffer } from "./output_buffer.ts";
import { encodeRequest } from "./request_stream.ts";
import { type SandboxRuntime, sandboxRuntime } from "./sandbox_runtime.ts";
import type {
  ErrorInfo,
  KernelInterrupt,
  KernelReply,
  KernelRequest,
  KernelYieldSave,
  MemoryReply,
  NpmReadiness,
  SandboxMessage,
  SandboxStart,
} from "./protocol.ts";

/** How long a sandbox may take to exit by itself once its stdin is closed. */
const CLOSE_GRACE_MS = 2000;

/** How to start a sandbox. */
export interface SandboxOptions {
  /** Absolute path of the kernel's scratch folder; created if missing. */
  scratchDir: string;
  /** Memory limit in MB: V8's heap limit and the resident-memory watchdog's threshold. */
  memoryLimitMb: number;
  /** Compiled prelude, run before the process reports ready. */
  prelude: string;
  /** What the host did about the prelude's `npm:` imports (default: nothing to do). */
  preludeNpm?: NpmReadiness;
  /** Which `deno` and sandbox files to use (default: `sandboxRuntime()`). */
  runtime?: SandboxRuntime;
  /**
   * Largest file the sandbox may write, in bytes (RLIMIT_FSIZE through util-linux `prlimit`,
   * SIGXFSZ ignored: a write past it fails with "File too large"); default none. Where
   * `prlimit` is missing only the host's measuring of the folder bounds it (`disk_quota.ts`).
   */
  fileSizeLimitBytes?: number;
}

/** Why a sandbox process ended. */
export interface SandboxExit {
  code: number;
  signal: Deno.Signal | null;
  /** Set when the sandbox's own watchdog stopped it. */
  memoryRssBytes?: number;
  /** Last lines the process wrote on stderr, e.g. V8's fatal out-of-memory error. */
  stderrTail: string;
}

/** A reply with the output the request produced. */
export interface SandboxReply {
  reply: KernelReply;
  stdout: string;
  stderr: string;
}

/** Receives a request's output as it is printed, with the stream it was printed on. */
export type OutputListener = (text: string, stream: "stdout" | "stderr") => void;

/** A running sandbox process. Requests must be sent one at a time. */
export class SandboxProcess {
  /**
   * Why the scratch folder had to be made again before this process started (a cell replaced it
   * with a file, or made it unreadable), its contents lost; `undefined` when it was fine.
   */
  repairedScratch?: string;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #stdout = new OutputBuffer();
  #stderr = new OutputBuffer();
  #tail = "";
  #memoryRss: number | undefined;
  #pending?: {
    id: number;
    reply?: KernelReply;
    marked: boolean;
    /** Pieces of a snapshot body received so far, as views of the pipe's reads. */
    chunks: Uint8Array[];
    resolve: (r: SandboxReply) => void;
    onOutput?: OutputListener;
  };
  /** Memory requests in flight, by id; they may overlap a running request. */
  #memory = new Map<number, (rssBytes: number) => void>();
  #ready = Promise.withResolvers<void>();
  /** The last message being written: the next one starts when it is done. */
  #writes: Promise<void> = Promise.resolve();
  #nextId = 1;
  #running = true;
  /** Resolves once, when the process has exited and its pipes are drained. */
  readonly exited: Promise<SandboxExit>;
  /** What it was started with: a kernel that takes it over starts its successors the same way. */
  readonly options: Readonly<SandboxOptions & { runtime: SandboxRuntime }>;

  private constructor(
    child: Deno.ChildProcess,
    token: string,
    options: SandboxOptions & { runtime: SandboxRuntime },
  ) {
    this.#child = child;
    this.options = options;
    this.#writer = child.stdin.getWriter();
    const streams = Promise.all([
      this.#pump(child.stdout, token, this.#stdout),
      this.#pump(child.stderr, token, this.#stderr),
    ]);
    this.exited = (async () => {
      const status = await child.status;
      this.#running = false;
      await streams.catch(() => {});
      const exit: SandboxExit = {
        code: status.code,
        signal: status.signal,
        memoryRssBytes: this.#memoryRss,
        stderrTail: this.#tail.slice(-2000),
      };
      this.#ready.reject(new Error(`The kernel process exited during start: ${describe(exit)}`));
      return exit;
    })();
    this.#ready.promise.catch(() => {});
  }

  /**
   * Starts a sandbox and waits until its Worker has run the prelude.
   *
   * @throws {Error} When the process exits before it is ready.
   */
  static async spawn(options: SandboxOptions): Promise<SandboxProcess> {
    const repaired = await repairScratch(options.scratchDir);
    const token = crypto.randomUUID().replaceAll("-", "");
    const runtime = options.runtime ?? await sandboxRuntime();
    const [command, args] = await withFileSizeLimit(
      runtime.deno,
      sandboxArgs(options, runtime),
      options.fileSizeLimitBytes,
    );
    const child = new Deno.Command(command, {
      args,
      cwd: options.scratchDir,
      clearEnv: true,
      env: sandboxEnv(await emptyHome()),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const process = new SandboxProcess(child, token, { ...options, runtime });
    process.repairedScratch = repaired;
    const start: SandboxStart = {
      token,
      scratchDir: options.scratchDir,
      memoryLimitBytes: options.memoryLimitMb * 1024 * 1024,
      saveLimitBytes: saveLimitMb(options.memoryLimitMb) * 1024 * 1024,
      saveStartBytes: options.memoryLimitMb * 0.6 * 1024 * 1024,
      prelude: options.prelude,
      npm: options.preludeNpm ?? { fetched: [], refused: {} },
    };
    try {
      await process.#write(start);
      await process.#ready.promise;
    } catch (error) {
      process.kill();
      throw error;
    }
    // Output of the prelude belongs to no request.
    process.#stdout.take();
    process.#stderr.take();
    return process;
  }

  /** The operating system's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has not exited yet. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Sends a request and resolves with its reply, or with `undefined` if the process exits first.
   *
   * @param options.onOutput Called with the request's stdout and stderr text as it arrives (the
   *   reply still carries all of it).
   * @param options.onSent Called once the request's bytes are written to the pipe (or the write
   *   failed), before this resolves: work done there overlaps the sandbox's handling of it.
   */
  async request(
    request: DistributiveOmit<KernelRequest, "id">,
    options: { onOutput?: OutputListener; onSent?: () => void } = {},
  ): Promise<SandboxReply | undefined> {
    if (this.#pending) throw new Error("Cannot send a kernel request while another is running");
    const id = this.#nextId++;
    const done = new Promise<SandboxReply>((resolve) => {
      this.#pending = { id, marked: false, chunks: [], resolve, onOutput: options.onOutput };
    });
    try {
      await this.#write({ ...request, id });
    } catch {
      // The process is gone; `exited` tells why.
    }
    options.onSent?.();
    const result = await Promise.race([done, this.exited.then(() => undefined)]);
    this.#pending = undefined;
    return result;
  }

  /**
   * The process's resident memory now, Worker included, as the sandbox measures it itself; may be
   * called while a request runs. Resolves with `undefined` if the process exits first.
   */
  async residentBytes(): Promise<number | undefined> {
    const id = this.#nextId++;
    const answer = new Promise<number>((resolve) => this.#memory.set(id, resolve));
    try {
      await this.#write({ kind: "memory", id });
      return await Promise.race([answer, this.exited.then(() => undefined)]);
    } catch {
      // The process is gone.
      return undefined;
    } finally {
      this.#memory.delete(id);
    }
  }

  /**
   * Asks the Worker to stop the running request (see `KernelInterrupt`); its reply, if the
   * Worker can still give one, says how it ended. Does nothing when no request runs.
   */
  interrupt(): void {
    const pending = this.#pending;
    if (!pending) return;
    const message: KernelInterrupt = { kind: "interrupt", target: pending.id };
    this.#write(message).catch(() => {});
  }

  /**
   * Asks the running request, if it is a yieldable snapshot, to give way (see
   * `KernelYieldSave`). Does nothing when no request runs.
   */
  yieldSave(): void {
    const pending = this.#pending;
    if (!pending) return;
    const message: KernelYieldSave = { kind: "yield-save", target: pending.id };
    this.#write(message).catch(() => {});
  }

  /** Stops the process at once (SIGKILL). Safe to call more than once. */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }

  /** Closes stdin, which makes the sandbox exit by itself, and waits for it. */
  async close(): Promise<SandboxExit> {
    await this.#writer.close().catch(() => {});
    if (await deadline(this.exited, CLOSE_GRACE_MS) === TIMED_OUT) this.kill();
    return await this.exited;
  }

  /**
   * Writes one message whole: a restore's body goes in pieces, and nothing written meanwhile
   * (an interrupt, a memory request) may land between them.
   */
  #write(message: object): Promise<void> {
    const run = this.#writes.then(async () => {
      // Each piece is encoded once the one before is written: each write's wait for the pipe
      // lets the host's other work run, and a large body never exists twice as bytes.
      for (const piece of encodeRequest(message as Record<string, unknown>)) {
        await this.#writer.write(piece);
      }
    });
    this.#writes = run.catch(() => {});
    return run;
  }

  async #pump(stream: ReadableStream<Uint8Array>, token: string, output: OutputBuffer) {
    const decoder = new FrameDecoder(token);
    const isStderr = output === this.#stderr;
    const text = new TextDecoder();
    for await (const chunk of stream) {
      for (const item of decoder.push(chunk)) {
        if (item.kind === "output") {
          output.push(item.bytes);
          const onOutput = this.#pending?.onOutput;
          if (isStderr || onOutput) {
            const decoded = text.decode(item.bytes, { stream: true });
            if (isStderr) this.#tail = (this.#tail + decoded).slice(-4000);
            onOutput?.(decoded, isStderr ? "stderr" : "stdout");
          }
        } else {
          this.#receive(item.message as SandboxMessage);
        }
      }
    }
    output.push(decoder.flush());
  }

  #receive(message: SandboxMessage): void {
    if ("event" in message) {
      if (message.event === "ready") this.#ready.resolve();
      else if (message.event === "failed") this.#ready.reject(toError(message.error));
      else if (message.event === "fatal") this.#memoryRss = message.rssBytes;
      else if (message.event === "mark" && this.#pending?.id === message.id) {
        this.#pending.marked = true;
      } else if (message.event === "chunk" && this.#pending?.id === message.id) {
        // A piece of a snapshot body, framed raw as an attachment (see frames.ts).
        this.#pending.chunks.push(...(message as { attachment?: Attachment }).attachment ?? []);
      }
    } else if (this.#memory.has(message.id)) {
      this.#memory.get(message.id)!((message as MemoryReply).value.rssBytes);
    } else if (this.#pending?.id === message.id) {
      const reply = message as KernelReply;
      if (reply.ok && this.#pending.chunks.length > 0) {
        (reply.value as { body?: Uint8Array }).body = concat(this.#pending.chunks);
        this.#pending.chunks = [];
      }
      this.#pending.reply = reply;
    }

    const pending = this.#pending;
    if (pending?.reply && pending.marked) {
      pending.resolve({
        reply: pending.reply,
        stdout: this.#stdout.take(),
        stderr: this.#stderr.take(),
      });
    }
  }
}

/** Omit that keeps a union a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function sandboxArgs(options: SandboxOptions, runtime: SandboxRuntime): string[] {
  return [
    "run",
    ...sandboxFlags({
      read: [options.scratchDir, runtime.workerDir],
      write: [options.scratchDir],
      memoryLimitMb: options.memoryLimitMb,
    }),
    runtime.main,
  ];
}

/**
 * The `deno run` flags of a sandbox process: only the given folders readable and writable, no
 * net, run, ffi or remote imports, no npm download, no access to the variables that steer Deno.
 * Exported so the benchmarks' floor starts with the same flags.
 *
 * @param options.read Folders the process may read (its scratch folder and its Worker's code).
 * @param options.write Folders it may write (at least one: an empty list would mean all).
 */
export function sandboxFlags(
  options: { read: string[]; write: string[]; memoryLimitMb: number },
): string[] {
  if (options.read.length === 0 || options.write.length === 0) {
    throw new RangeError("Cannot start a sandbox without a folder to read and write");
  }
  return [
    "--quiet",
    "--no-config",
    "--no-lock",
    "--no-prompt",
    "--unstable-worker-options",
    // The heap may grow to the save limit while a snapshot is taken; at other times the
    // watchdog stops the kernel at the memory limit first (the heap is part of resident memory).
    // --expose-gc lets the Worker collect before and after a save; it hides gc from cells.
    `--v8-flags=--max-old-space-size=${saveLimitMb(options.memoryLimitMb)},--expose-gc`,
    `--allow-read=${options.read.join(",")}`,
    `--allow-write=${options.write.join(",")}`,
    // The Worker needs sys to connect its inspector session and revokes it at once (kernel_worker.ts).
    "--allow-sys",
    // Never download: a cell could steer a download (see deno_env.ts); the host fetches first.
    "--cached-only",
    // The environment is cleared (sandboxEnv), so env access reveals only what Deno needs; the
    // variables that steer Deno cannot be set (a kernel reads them as unset, kernel_worker.ts).
    "--allow-env",
    `--deny-env=${DENIED_ENV.join(",")}`,
  ];
}

/**
 * Memory a kernel may use while its snapshot is taken or restored: twice its limit. Serializing
 * a namespace costs up to 1.5 times the data again (the walk's bookkeeping, a chunk of text;
 * measured with 400,000 and 600,000 records), so without headroom a save could kill the kernel
 * it was saving. Variables holding more than 60% of the limit are not saved at all: the save is
 * refused and reported, and the kernel keeps running.
 */
export function saveLimitMb(memoryLimitMb: number): number {
  return memoryLimitMb * 2;
}

function toError(info: ErrorInfo): Error {
  const error = new Error(info.message);
  error.name = info.name;
  error.stack = info.stack;
  return error;
}

/** One line about how a sandbox ended. */
export function describe(exit: SandboxExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  const tail = exit.stderrTail.trim().split("\n").slice(-3).join(" | ");
  return tail ? `${how}; last output: ${tail}` : how;
}

/** Where util-linux keeps `prlimit`, if this machine has it. */
const PRLIMIT = "/usr/bin/prlimit";

/**
 * The command that runs `deno args` with a per-file size limit: `sh` ignores SIGXFSZ (ignored
 * signals stay ignored across exec) and `prlimit` sets the limit in bytes; without a limit, or
 * without `prlimit`, `deno args` as they are.
 */
async function withFileSizeLimit(
  deno: string,
  args: string[],
  bytes: number | undefined,
): Promise<[string, string[]]> {
  if (bytes === undefined || !await exists(PRLIMIT)) return [deno, args];
  const limit = String(Math.max(1, Math.floor(bytes)));
  const script = `trap "" XFSZ; exec ${PRLIMIT} --fsize=${limit}:${limit} -- "$@"`;
  return ["/bin/sh", ["-c", script, "sh", deno, ...args]];
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `dir` a readable and writable folder of this user's again: created when missing;
 * when a cell replaced it with a file or took its permissions away, the file is removed or the
 * mode restored (0700), or else the folder is emptied and made again. Returns why it had to,
 * or `undefined` when it was fine.
 */
async function repairScratch(dir: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(dir);
  } catch {
    await Deno.mkdir(dir, { recursive: true });
    return undefined;
  }
  if (!info.isDirectory) {
    await Deno.remove(dir, { recursive: true });
    await Deno.mkdir(dir, { recursive: true });
    return "the kernel's folder had been replaced by a file; it was made again, empty";
  }
  if (((info.mode ?? 0o700) & 0o700) !== 0o700) {
    await Deno.chmod(dir, 0o700);
    return "the kernel's folder had lost its permissions; they were restored (0700)";
  }
  return undefined;
}
