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
  /** Its lease holder id, when its registry is shared. */
  holder?: string;
}

/** How to start a host process. */
export interface HostProcessOptions {
  /** The port to listen on (default: one the system picks). */
  port?: number;
  /** Gets the host's log (stderr) as it comes, from its "listening" line on. */
  onLog?: (text: string) => void;
}

/**
 * Starts `deno run -A main.ts <args>` and resolves once it listens. Its stderr keeps being
 * drained (to `onLog`, if given) so the host never blocks on a full pipe.
 *
 * @throws {Error} When the host exits before it listens, with its log.
 */
export async function startHostProcess(
  args: string[],
  options: HostProcessOptions = {},
): Promise<HostProcess> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--port", String(options.port ?? 0), ...args],
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
      options.onLog?.(text);
      (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            options.onLog?.(value);
          }
        } catch { /* the host was killed */ }
      })();
      const listening = JSON.parse(line);
      return { process, url: listening.url, holder: listening.holder };
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
