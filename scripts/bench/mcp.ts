/**
 * Figure 3: a trivial cell end to end through the MCP SDK's real Client, over stdio (a
 * `main.ts` child process) and over HTTP (an in-process server), against a pipe round trip.
 *
 * @module
 */
import { join } from "node:path";
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

/** A connected client and how to tear down everything behind it. */
interface Connection {
  client: Client;
  close(): Promise<void>;
}

/** Measures `execute('x = x + 1')` over each transport. */
export async function mcpFigures(sizes: Sizes, floors: Floors): Promise<Row[]> {
  await using t = await temp("mkh-bench-");
  const floorMedian = stats(floors.pipeTrip).median;
  const transports: [string, () => Promise<Connection>][] = [
    ["stdio", () => connectStdio(t.dir)],
    ["HTTP", () => connectHttp(join(t.dir, "http"))],
  ];
  const rows: Row[] = [];
  for (const [name, connect] of transports) {
    const { client, close } = await connect();
    try {
      await client.callTool({ name: "execute", arguments: { code: "let x = 0" } });
      const samples: number[] = [];
      for (let i = 0; i < sizes.cells; i++) {
        samples.push(
          await time(() => client.callTool({ name: "execute", arguments: { code: "x = x + 1" } })),
        );
      }
      rows.push({
        name: `trivial cell over MCP ${name}`,
        workload: "SDK Client callTool execute('x = x + 1')",
        reps: sizes.cells,
        ...stats(samples),
        unit: "ms",
        floor: { name: "pipe + postMessage round trip to a bare sandbox", median: floorMedian },
        goal: "p50 ≤ 1 ms",
      });
    } finally {
      await close();
    }
  }
  return rows;
}

async function connectStdio(dataDir: string): Promise<Connection> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", "main.ts", "--stdio", "--data-dir", dataDir, "--log-level", "warn"],
    cwd: ROOT,
    stderr: "inherit",
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

async function connectHttp(dataDir: string): Promise<Connection> {
  const host = await openBenchHost({ dataDir });
  const handler = createHttpHandler({ host, log: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler.fetch);
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${server.addr.port}/mcp`)),
  );
  return {
    client,
    async close() {
      await client.close();
      await handler.close();
      await server.shutdown();
      await host.shutdown();
    },
  };
}
