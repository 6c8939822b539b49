/**
 * One MCP server per session: the tools of DESIGN.md section 3, each in its own file under
 * `tools/`, registered here for one caller.
 *
 * @module
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Caller, Host } from "../host.ts";
import { cellStatus } from "./tools/cell_status.ts";
import { closeKernel } from "./tools/close_kernel.ts";
import { complete } from "./tools/complete.ts";
import { createKernel } from "./tools/create_kernel.ts";
import { execute } from "./tools/execute.ts";
import { inspectVariable } from "./tools/inspect_variable.ts";
import { kernelInfo } from "./tools/kernel_info.ts";
import { listKernels } from "./tools/list_kernels.ts";
import { listVariables } from "./tools/list_variables.ts";
import { resetKernel } from "./tools/reset_kernel.ts";
import type { Tool } from "./tools/tool.ts";

import { VERSION } from "../version.ts";

/** Every tool, in the order `tools/list` shows them. */
const TOOLS: readonly Tool[] = [
  execute,
  cellStatus,
  complete,
  listVariables,
  inspectVariable,
  resetKernel,
  kernelInfo,
  createKernel,
  listKernels,
  closeKernel,
];

/**
 * Builds the MCP server for one session.
 *
 * @param host Where the tools send their calls.
 * @param caller The session: its default kernel, and who it is to the host's access rules.
 */
export function createMcpServer(host: Host, caller: Caller): McpServer {
  const server = new McpServer(
    { name: "mcp-kernel-host", version: VERSION },
    {
      instructions: "A persistent TypeScript/JavaScript kernel (Deno). Variables, functions, " +
        "classes and imports persist between execute calls, like a notebook. Use npm: " +
        "specifiers to import packages. Files can be read and written only in the kernel's " +
        "working folder; there is no network.",
    },
  );
  const ctx = { host, caller };
  for (const tool of TOOLS) {
    const inputSchema = typeof tool.inputSchema === "function"
      ? tool.inputSchema(host)
      : tool.inputSchema;
    server.registerTool(tool.name, {
      title: tool.title,
      description: tool.description,
      inputSchema,
      ...(tool.outputSchema && { outputSchema: tool.outputSchema }),
      annotations: tool.annotations,
    }, (args, extra) => {
      const token = extra._meta?.progressToken;
      const progress = token === undefined ? undefined : (
        update: { progress: number; message: string },
      ) =>
        extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken: token, ...update },
        });
      return tool.handler(args, { ...ctx, call: { signal: extra.signal, progress } });
    });
  }
  return server;
}
