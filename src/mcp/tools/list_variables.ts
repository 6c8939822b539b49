/**
 * The `list_variables` tool: the kernel's user variables.
 *
 * @module
 */
import { z } from "zod";
import { textResult } from "../content.ts";
import { listViews } from "../list_budget.ts";
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
    omitted: z.number().int().optional().describe("Variables left out to stay within the budget"),
    truncated: z.string().optional().describe("What was left out, and how to see it"),
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
    const views = listViews({
      items: variables,
      limit: host.outputLimit,
      line: (v) => `${v.name}: ${v.type} (${approxSize(v.approx_bytes)}) = ${v.preview}`,
      empty: "(no variables)",
      noun: "variables",
      hint: "inspect_variable shows one by name; a cell can list and filter them",
      structured: (kept) => ({ variables: kept }),
    });
    return textResult(views.text, views.structured);
  },
});

/** An approximate size as a person reads it: `~48 B`, `~3.4 kB`, `~12 MB`. */
function approxSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const shown = unit === 0 || value >= 10 ? Math.round(value).toString() : value.toFixed(1);
  return `~${shown} ${units[unit]}`;
}
