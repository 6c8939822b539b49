/**
 * The `cell_status` tool: how a background cell is doing.
 *
 * @module
 */
import { z } from "zod";
import { cellResult } from "../content.ts";
import { defineTool, kernelArg } from "./tool.ts";

/**
 * A background cell's output so far, and its result once done; never waits for the kernel. Like
 * `execute`, it declares no output schema: a result with images carries no structured content.
 */
export const cellStatus = defineTool({
  name: "cell_status",
  title: "Background cell status",
  description: "Output so far of a cell started with execute {background: true}, and its " +
    "result once done (status running until then). Answers at once, even while the kernel " +
    "is busy with that cell.",
  inputSchema: {
    cell: z.string().min(1).describe("The cell handle execute returned"),
    kernel: kernelArg,
  },
  annotations: { readOnlyHint: true },
  async handler({ cell, kernel }, { host, caller }) {
    const c = await host.cell(await host.resolveKernel(caller, kernel), cell);
    return cellResult(c, { limit: host.outputLimit });
  },
});
