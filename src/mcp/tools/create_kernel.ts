/**
 * The `create_kernel` tool: another kernel, by handle.
 *
 * @module
 */
import { z } from "zod";
import { textResult } from "../content.ts";
import { defineTool } from "./tool.ts";

/** Creates a kernel for the caller (owned by its session, if it has one) and returns its id. */
export const createKernel = defineTool({
  name: "create_kernel",
  title: "Create a kernel",
  description: (host) =>
    "Creates another kernel and returns its handle (id); pass it as `kernel` to the other " +
    `tools. Retention: a kernel idle for ${host.idleTimeoutS} s is stopped with its state ` +
    "saved and comes back on its next call; a stored kernel idle for " +
    `${host.retentionDays} days is deleted (0: never). close_kernel deletes it at once; a ` +
    "session's kernels (MCP 2025-11-25) are also deleted when the session is DELETEd. Without " +
    "a session (MCP 2026-07-28 over HTTP) a kernel is owned by no one: anyone holding its " +
    "handle may use and close it.",
  inputSchema: {},
  outputSchema: { kernel: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async handler(_args, { host, caller }) {
    const id = await host.createKernelFor(caller);
    return textResult(`Created kernel ${id}: pass kernel: "${id}" to use it.`, { kernel: id });
  },
});
