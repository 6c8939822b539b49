/**
 * The `list_variables` tool: the kernel's user variables.
 *
 * @module
 */
import { z } from "zod";
import { textResult, truncate } from "../content.ts";
import { defineTool, kernelArg } from "./tool.ts";

/** Name, type, short preview and approximate size of each user variable. */
export const listVariables = defineTool({
  name: "list_variables",
  title: "List variables",
  description: "The variables defined in the kernel: name, type, short preview and " +
    "approximate size in bytes.",
  inputSchema: { kernel: kernelArg },
  outputSchema: {
    variables: z.array(z.object({
      name: z.string(),
      type: z.string(),
      preview: z.string(),
      approx_bytes: z.number(),
    })),
  },
  reportsKernelState: true,
  annotations: { readOnlyHint: true },
  async handler({ kernel }, { host, caller }) {
    const list = await host.variables(await host.resolveKernel(caller, kernel));
    const variables = list.map((v) => ({
      name: v.name,
      type: v.type,
      preview: v.preview,
      approx_bytes: v.approxBytes,
    }));
    const text = variables.length === 0
      ? "(no variables)"
      : variables.map((v) => `${v.name}: ${v.type} = ${v.preview}`).join("\n");
    return textResult(truncate(text), { variables });
  },
});
