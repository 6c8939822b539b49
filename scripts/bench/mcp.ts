/**
 * Figure 3: a trivial cell end to end through the MCP SDKs' real Clients, over stdio (a
 * `main.ts` child process) and over HTTP (an in-process server), in both protocol eras: the v1
 * Client with 2025-11-25 sessions, the v2 Client pinned to 2026-07-28 (kernels by handle),
 * against a pipe round trip.
 *
 * @module
 */
import { join } from "node:path";
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport as ModernStdioTransport } from "@modelcontextprotocol/client/stdio";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createHttpHandler } from "../../src/mcp/http.ts";
import { ROOT } from "../../testing/host_process.ts";
import type { Floors } from "./floors.ts";
import { openBenchHost, type Row, type Sizes, stats, temp, time } from "./harness.ts";

/** A connected client: one `execute` call, and how to tear down everything behind it. */
interface Connection {
  execute(code: string): Promise<void>;
  close(): Promise<void>;
}

/** The revision without sessions. */
const MODERN = "2026-07-28";

/** Measures `execute('x = x + 1')` over each transport. */
export async function mcpFigures(sizes: Sizes, floors: Floors): Promise<Row[]> {
  await using t = await temp("mkh-bench-");
  const floorMedian = stats(floors.pipeTrip).median;
  const transports: [string, () => Promise<Connection>][] = [
    ["stdio (2025-11-25)", () => connectStdio(join(t.dir, "stdio"), "legacy")],
    ["stdio (2026-07-28)", () => connectStdio(join(t.dir, "stdio-modern"), "modern")],
    ["HTTP (2025-11-25, session)", () => connectHttp(join(t.dir, "http"), "legacy")],
    ["HTTP (2026-07-28, by handle)", () => connectHttp(join(t.dir, "http-modern"), "modern")],
  ];
  const rows: Row[] = [];
  for (const [name, connect] of transports) {
    const { execute, close } = await connect();
    try {
      await execute("let x = 0");
      const samples: number[] = [];
      for (let i = 0; i < sizes.cells; i++) samples.push(await time(() => execute("x = x + 1")));
      rows.push({
        name: `trivial cell over MCP ${name}`,
        workload: "SDK Client callTool execute('x = x + 1')" +
          (name.includes("handle") ? " with kernel: handle" : ""),
        reps: sizes.cells,
        ...stats(samples),
        unit: "ms",
        floor: { name: "pipe + postMessage round trip to a bare sandbox", median: floorMedian },
        goal: name.includes("stdio") ? "p50 ≤ 0.6 ms" : "p50 ≤ 0.8 ms",
      });
    } finally {
      await close();
    }
  }
  return rows;
}

async function connectStdio(dataDir: string, era: "legacy" | "modern"): Promise<Connection> {
  const params = {
    command: Deno.execPath(),
    args: ["run", "-A", "main.ts", "--stdio", "--data-dir", dataDir, "--log-level", "warn"],
    cwd: ROOT,
    stderr: "inherit" as const,
  };
  if (era === "modern") {
    const client = new ModernClient({ name: "bench", version: "1" }, {
      versionNegotiation: { mode: { pin: MODERN } },
    });
    await client.connect(new ModernStdioTransport(params));
    return {
      execute: async (code) => void await client.callTool({ name: "execute", arguments: { code } }),
      close: () => client.close(),
    };
  }
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StdioClientTransport(params));
  return {
    execute: async (code) => void await client.callTool({ name: "execute", arguments: { code } }),
    close: () => client.close(),
  };
}

async function connectHttp(dataDir: string, era: "legacy" | "modern"): Promise<Connection> {
  const host = await openBenchHost({ dataDir });
  const handler = createHttpHandler({ host, log: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler.fetch);
  const url = new URL(`http://127.0.0.1:${server.addr.port}/mcp`);
  const teardown = async () => {
    await handler.close();
    await server.shutdown();
    await host.shutdown();
  };
  if (era === "modern") {
    const client = new ModernClient({ name: "bench", version: "1" }, {
      versionNegotiation: { mode: { pin: MODERN } },
    });
    await client.connect(new ModernHttpTransport(url));
    let kernel: string | undefined;
    return {
      async execute(code) {
        const r = await client.callTool({
          name: "execute",
          arguments: { code, ...(kernel && { kernel }) },
        });
        kernel ??= (r.structuredContent as { kernel: string }).kernel;
      },
      async close() {
        await client.close();
        await teardown();
      },
    };
  }
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(url));
  return {
    execute: async (code) => void await client.callTool({ name: "execute", arguments: { code } }),
    async close() {
      await client.close();
      await teardown();
    },
  };
}
