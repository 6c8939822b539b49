/**
 * The `inspect_variable` tool: one variable in detail.
 *
 * @module
 */
import { z } from "zod";
import { textResult } from "../content.ts";
import { truncate } from "../text_budget.ts";
import { defineTool, kernelArg } from "./tool.ts";

/** Full preview, members and source of a variable or a path into one, read without effects. */
export const inspectVariable = defineTool({
  name: "inspect_variable",
  title: "Inspect a variable",
  description: "Full preview, members and, for functions and classes, source of one " +
    "variable, or of a path into one such as `rows[0].name` (read without side effects). " +
    "An array of records, a Map or a data table shows its shape and first rows.",
  inputSchema: {
    name: z.string().min(1),
    depth: z.number().int().min(0).max(20).optional().describe("Nesting shown (default 2)"),
    kernel: kernelArg,
  },
  outputSchema: {
    name: z.string(),
    type: z.string(),
    preview: z.string(),
    members: z.array(z.object({ name: z.string(), type: z.string(), preview: z.string() })),
    source: z.string().optional(),
  },
  reportsKernelState: true,
  annotations: { readOnlyHint: true },
  async handler({ name, depth, kernel }, { host, caller }) {
    const d = await host.inspect(await host.resolveKernel(caller, kernel), name, depth);
    const text = [
      `${d.name}: ${d.type}`,
      d.source ?? d.preview,
      ...(d.members.length ? ["members:", ...d.members.map((m) => `  ${m.name}: ${m.type}`)] : []),
    ].join("\n");
    const limit = host.outputLimit;
    return textResult(truncate(text, limit), { ...d, preview: truncate(d.preview, limit) });
  },
});
