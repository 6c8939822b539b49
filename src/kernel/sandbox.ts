/**
 * Entry point of a kernel's sandbox process (started by `sandbox_process.ts`).
 *
 * The process is the security boundary: its permission flags allow files only in the kernel's
 * scratch folder, which also governs module loading, where Worker permissions do not
 * (DESIGN.md section 8). A heap exhausted in the Worker aborts this process only, never the host.
 * Here the main thread relays messages between the host's pipes and the kernel's Worker, and
 * watches resident memory, which ArrayBuffers grow outside V8's heap limit.
 *
 * @module
 */
import { encodeFrames } from "./frames.ts";
import type { KernelRequest, SandboxMessage, SandboxStart } from "./protocol.ts";
import type { WorkerInit } from "./worker/kernel_worker.ts";

const WATCHDOG_INTERVAL_MS = 20;

const lines = readLines(Deno.stdin.readable);
const first = await lines.next();
if (first.done) Deno.exit(0);
const start: SandboxStart = JSON.parse(first.value);

function send(stream: typeof Deno.stdout, message: SandboxMessage): void {
  for (const frame of encodeFrames(start.token, message)) {
    for (let at = 0; at < frame.length;) at += stream.writeSync(frame.subarray(at));
  }
}

setInterval(() => {
  const { rss } = Deno.memoryUsage();
  if (rss > start.memoryLimitBytes) {
    send(Deno.stdout, { event: "fatal", reason: "memory", rssBytes: rss });
    Deno.exit(137);
  }
}, WATCHDOG_INTERVAL_MS);

const worker = new Worker(new URL("./worker/kernel_worker.ts", import.meta.url), {
  type: "module",
  name: "kernel",
  deno: {
    permissions: {
      read: [start.scratchDir],
      write: [start.scratchDir],
      net: false,
      run: false,
      ffi: false,
      import: false,
      // The environment was cleared by the host; npm packages that read process.env still load.
      env: true,
      // Needed to connect the inspector session; the Worker revokes it before user code runs.
      sys: true,
    },
  },
});

worker.onmessage = (event: MessageEvent<SandboxMessage>) => {
  const message = event.data;
  if ("event" in message && message.event === "ready") {
    Deno.permissions.revokeSync({ name: "sys" });
  }
  if ("id" in message) send(Deno.stderr, { event: "mark", id: message.id });
  send(Deno.stdout, message);
  if ("event" in message && message.event === "failed") Deno.exit(70);
};
worker.onerror = (event) => {
  event.preventDefault();
  console.error("The kernel's Worker failed:", event.message);
  Deno.exit(70);
};
worker.postMessage({ scratchDir: start.scratchDir, prelude: start.prelude } satisfies WorkerInit);

for await (const line of lines) {
  if (line) worker.postMessage(JSON.parse(line) as KernelRequest);
}
// The host closed our stdin (it exited, even by kill -9): leave no orphan behind.
Deno.exit(0);

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    // Search only the new text, so a multi-megabyte line is not rescanned per chunk.
    let from = pending.length;
    pending += text;
    let newline;
    while ((newline = pending.indexOf("\n", from)) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      from = 0;
    }
  }
  if (pending) yield pending;
}
