/**
 * The `list_kernels` tool: the kernels this session owns or has used.
 *
 * @module
 */
import { z } from "zod";
import { textResult } from "../content.ts";
import { defineTool, kernelSummary, summaryFields } from "./tool.ts";

/** The kernels the calling session owns or has used, with their facts. */
export const listKernels = defineTool({
  name: "list_kernels",
  title: "List kernels",
  description: "The kernels this session owns or has used; over stdio, this process's kernel " +
    "and those it created. Without a session (MCP 2026-07-28 over HTTP) the server cannot tell " +
    "one caller from another, so it lists nothing: keep the handles execute and create_kernel " +
    "return, and ask kernel_info about one.",
  inputSchema: {},
  outputSchema: {
    kernels: z.array(z.object({ ...kernelSummary, default: z.boolean(), owned: z.boolean() })),
  },
  annotations: { readOnlyHint: true },
  async handler(_args, { host, caller }) {
    const kernels = (await host.listKernelsFor(caller)).map((k) => ({
      kernel: k.kernel,
      default: k.default,
      owned: k.owned,
      ...summaryFields(k),
    }));
    const text = kernels.map((k) =>
      `${k.kernel}${k.default ? " (default)" : ""}${k.owned ? "" : " (shared)"}: ` +
      `${k.execution_count} cells, ${k.live ? "live" : "stored"}`
    ).join("\n");
    const none = caller.sessionId || caller.defaultKernel
      ? "No kernels."
      : "Without a session there is nothing to list: keep the handles that execute and " +
        "create_kernel return, and ask kernel_info about one.";
    return textResult(text || none, { kernels });
  },
});
