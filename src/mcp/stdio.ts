/**
 * Serves one MCP client over stdin/stdout. Nothing but JSON-RPC goes to stdout; the process
 * ends when the client closes stdin.
 *
 * @module
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import process from "node:process";
import type { Host } from "../host.ts";
import { createMcpServer } from "./server.ts";

/**
 * Connects one session to stdin/stdout and resolves when the client has gone (stdin closed).
 * Its kernel is ephemeral (deleted at the end) unless `kernelName` names a persistent one, which
 * the caller saves when it shuts the host down.
 */
export async function serveStdio(host: Host, kernelName = ""): Promise<void> {
  const kernel = kernelName
    ? await host.openNamedKernel(kernelName)
    : await host.createKernel({ persistent: false });
  const server = createMcpServer(host, { defaultKernel: kernel, created: new Set() });
  const transport = new StdioServerTransport();
  const ended = Promise.withResolvers<void>();
  transport.onclose = () => ended.resolve();
  // The transport does not notice stdin's end while a kernel process is alive.
  process.stdin.on("end", () => ended.resolve());
  await server.connect(transport);
  await ended.promise;
  await server.close();
  if (!kernelName) await host.closeKernel(kernel);
}
