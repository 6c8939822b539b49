/** Test helper: the SDK's real Client talking to `deno task serve --stdio`. */
import { fileURLToPath } from "node:url";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A connected client; disposing it closes the connection (the server then exits). */
export interface StdioSession extends AsyncDisposable {
  client: Client;
  errors: Error[];
  /** Calls `execute` and returns its structured result. */
  execute(code: string): Promise<Record<string, unknown>>;
}

/** Starts `deno task serve --stdio <args>` and connects the SDK's Client to it. */
export async function connectStdio(args: string[]): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["task", "--quiet", "serve", "--stdio", ...args],
    cwd: ROOT,
    env: { ...Deno.env.toObject(), NO_COLOR: "1" },
    stderr: "ignore",
  });
  const errors: Error[] = [];
  const client = new Client({ name: "test", version: "1.0.0" });
  client.onerror = (e) => errors.push(e);
  await client.connect(transport);
  return {
    client,
    errors,
    async execute(code) {
      const r = await client.callTool({ name: "execute", arguments: { code } });
      return r.structuredContent as Record<string, unknown>;
    },
    async [Symbol.asyncDispose]() {
      await client.close();
    },
  };
}

/** Starts the stdio host directly (no `deno task` wrapper), so its pid is the host's. */
export function spawnHost(dataDir: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--stdio", "--data-dir", dataDir],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

/** Sends JSON-RPC lines to a host and reads its stdout until the reply with id `until`. */
export async function converse(
  host: Deno.ChildProcess,
  lines: unknown[],
  until: number,
): Promise<
  {
    writer: WritableStreamDefaultWriter<Uint8Array>;
    reader: ReadableStreamDefaultReader<string>;
    text: string;
  }
> {
  const writer = host.stdin.getWriter();
  for (const line of lines) {
    await writer.write(new TextEncoder().encode(JSON.stringify(line) + "\n"));
  }
  const reader = host.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(`"id":${until}`)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return { writer, reader, text };
}
