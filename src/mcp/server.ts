/**
 * One MCP server per serving unit — a legacy session, a stdio connection, or one 2026-07-28
 * request — with the tools of DESIGN.md section 3, each in its own file under `tools/`,
 * registered here for one caller. The SDK (`@modelcontextprotocol/server`, v2) speaks both
 * protocol eras; the same tools serve both.
 *
 * @module
 */
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { Caller, Host } from "../host.ts";
import { cellStatus } from "./tools/cell_status.ts";
import { closeKernel } from "./tools/close_kernel.ts";
import { complete } from "./tools/complete.ts";
import { createKernel } from "./tools/create_kernel.ts";
import { downloadFile } from "./tools/download_file.ts";
import { execute } from "./tools/execute.ts";
import { inspectVariable } from "./tools/inspect_variable.ts";
import { kernelInfo } from "./tools/kernel_info.ts";
import { listKernels } from "./tools/list_kernels.ts";
import { listVariables } from "./tools/list_variables.ts";
import { resetKernel } from "./tools/reset_kernel.ts";
import type { Tool } from "./tools/tool.ts";
import { instructions } from "./instructions.ts";
import { kernelStateShape, withKernelState } from "./kernel_state.ts";
import { uploadFile } from "./tools/upload_file.ts";
import { registerKernelFiles } from "./kernel_files.ts";

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
  uploadFile,
  downloadFile,
];

/** What `registerTool` takes for one tool, built from its definition and the host's settings. */
interface ToolConfig {
  tool: Tool;
  config: {
    title: string;
    description: string;
    inputSchema: z.ZodObject;
    outputSchema?: z.ZodObject;
    annotations: Tool["annotations"];
  };
}

/**
 * The tools' schemas, built once per host: a server is built for every sessionless request,
 * and the SDK keeps the JSON Schema it derives from a schema object, so the same objects are
 * reused (building them anew cost about 0.3 ms a request).
 */
const configs = new WeakMap<Host, readonly ToolConfig[]>();

function toolConfigs(host: Host): readonly ToolConfig[] {
  let built = configs.get(host);
  if (!built) {
    built = TOOLS.map((tool) => ({
      tool,
      config: {
        title: tool.title,
        description: typeof tool.description === "function"
          ? tool.description(host)
          : tool.description,
        inputSchema: jsonSchemaOnce(z.object(
          typeof tool.inputSchema === "function" ? tool.inputSchema(host) : tool.inputSchema,
        )),
        ...(tool.outputSchema && {
          outputSchema: jsonSchemaOnce(z.object({
            ...tool.outputSchema,
            ...(tool.reportsKernelState && kernelStateShape),
          })),
        }),
        annotations: tool.annotations,
      },
    }));
    configs.set(host, built);
  }
  return built;
}

/**
 * The schema, with its JSON Schema derived once per target rather than at every `tools/list`
 * and `tools/call` (the SDK derives it each time, for the listing and for the `Mcp-Param-*`
 * header check: about 1.5 ms a sessionless request). Validation is the schema's own.
 */
function jsonSchemaOnce<T extends z.ZodObject>(schema: T): T {
  const standard = schema["~standard"];
  const derived = new Map<string, Record<string, unknown>>();
  const once = (io: "input" | "output") => (options: { target: string }) => {
    const key = `${io} ${options.target}`;
    let json = derived.get(key);
    if (!json) derived.set(key, json = standard.jsonSchema[io](options));
    return json;
  };
  return Object.create(schema, {
    "~standard": {
      value: { ...standard, jsonSchema: { input: once("input"), output: once("output") } },
    },
  });
}

/**
 * Builds the MCP server for one caller.
 *
 * @param host Where the tools send their calls.
 * @param caller Who is calling: its default kernel (if any), and who it is to the host's access
 *   rules.
 */
export function createMcpServer(host: Host, caller: Caller): McpServer {
  const server = new McpServer(
    { name: "mcp-kernel-host", version: VERSION },
    {
      capabilities: { tools: {} },
      instructions: instructions(host.limits, {
        sessionless: caller.defaultKernel === undefined,
      }),
    },
  );
  const ctx = { host, caller };
  registerKernelFiles(server, ctx);
  for (const { tool, config } of toolConfigs(host)) {
    server.registerTool(tool.name, config, async (args, extra) => {
      const token = extra.mcpReq._meta?.progressToken;
      const progress = token === undefined ? undefined : (
        update: { progress: number; message: string },
      ) =>
        extra.mcpReq.notify({
          method: "notifications/progress",
          params: { progressToken: token, ...update },
        });
      const result = await tool.handler(args as never, {
        ...ctx,
        call: { signal: extra.mcpReq.signal, progress },
      });
      const kernel = (args as { kernel?: string }).kernel ?? caller.defaultKernel;
      return tool.reportsKernelState && kernel && !result.isError
        ? withKernelState(result, host.stateNotice(kernel))
        : result;
    });
  }
  return server;
}
