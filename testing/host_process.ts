/**
 * Helpers for scripts and tests that drive a real host process: start `main.ts`, learn its URL
 * from its "listening" log line, and the `initialize` request a raw client sends.
 *
 * `testing/` holds what both `tests/` and `scripts/` use to drive the product from outside, so
 * neither depends on the other; `src/` never imports it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A running HTTP host process and its MCP endpoint. */
export interface HostProcess {
  process: Deno.ChildProcess;
  url: string;
}

/**
 * Starts `deno run -A main.ts <args>` on a free port and resolves once it listens. Its stderr
 * keeps being drained so the host never blocks on a full pipe.
 */
export async function startHostProcess(args: string[]): Promise<HostProcess> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--port", "0", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the host exited before listening: ${text}`);
    text += value;
    const line = text.split("\n").find((l) => l.includes('"listening"'));
    if (line) {
      (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* the host was killed */ }
      })();
      return { process, url: JSON.parse(line).url };
    }
  }
}

/** A JSON-RPC `initialize` request as a minimal client sends it. */
export function initializeRequest(
  id: number | string = 1,
  client = "raw",
): Record<string, unknown> {
  return {
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: client, version: "1" },
    },
  };
}
