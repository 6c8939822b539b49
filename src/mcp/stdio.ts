/**
 * Serves one MCP client over stdin/stdout, in either protocol era: the SDK's `serveStdio` picks
 * the era from the client's opening message (`server/discover` for 2026-07-28, `initialize` for
 * 2025-11-25; a client may probe with the first and fall back to the second). Nothing but
 * JSON-RPC goes to stdout; the process ends when the client closes stdin.
 *
 * @module
 */
import { serveStdio as serveSdkStdio } from "@modelcontextprotocol/server/stdio";
import process from "node:process";
import type { Caller, Host } from "../host.ts";
import { log } from "../log.ts";
import { createMcpServer } from "./server.ts";

/**
 * Connects the client on stdin/stdout and resolves when it has gone (stdin closed). Every call
 * without a `kernel` uses the process's kernel, whichever era the client speaks. That kernel is
 * ephemeral (deleted at the end) unless `kernelName` names a persistent one, which the caller
 * saves when it shuts the host down.
 */
export async function serveStdio(host: Host, kernelName = ""): Promise<void> {
  const kernel = kernelName
    ? await host.openNamedKernel(kernelName)
    : await host.createKernel({ persistent: false });
  // One caller for the connection: a discarded `server/discover` probe instance and the
  // instance of the era the client settles on share it.
  const caller: Caller = { defaultKernel: kernel, created: new Set() };
  const ended = Promise.withResolvers<void>();
  // The transport does not notice stdin's end while a kernel process is alive.
  process.stdin.on("end", () => ended.resolve());
  process.stdin.on("close", () => ended.resolve());
  const handle = serveSdkStdio(() => createMcpServer(host, caller), {
    onerror: (e) => log("warn", `stdio: ${e.message}`),
  });
  await ended.promise;
  await handle.close();
  if (!kernelName) await host.closeKernel(kernel);
}
