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
  description: "The kernels this session owns or has used.",
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
    return textResult(text, { kernels });
  },
});
