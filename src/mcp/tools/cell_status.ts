/**
 * The `cell_status` tool: how a background cell is doing.
 *
 * @module
 */
import { z } from "zod";
import { cellResult } from "../content.ts";
import { defineTool, kernelArg } from "./tool.ts";

/**
 * A background cell's output so far, and its result once done; never waits for the kernel, but
 * for the cell's end when asked to cancel it. Like `execute`, it declares no output schema: a
 * result with images carries no structured content.
 */
export const cellStatus = defineTool({
  name: "cell_status",
  title: "Background cell status",
  description: "Output so far of a cell started with execute {background: true}, and its " +
    "result once done (status running until then). Answers at once, even while the kernel " +
    "is busy with that cell. With cancel: true, a cell still running is interrupted as a " +
    "cancelled call would be (the kernel keeps its variables), and its result is returned.",
  inputSchema: {
    cell: z.string().min(1).describe("The cell handle execute returned"),
    cancel: z.boolean().optional().describe(
      "Interrupt the cell if it still runs (the kernel keeps its variables)",
    ),
    kernel: kernelArg,
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  async handler({ cell, cancel, kernel }, { host, caller }) {
    const id = await host.resolveKernel(caller, kernel);
    const c = cancel ? await host.cancelCell(id, cell) : await host.cell(id, cell);
    return cellResult(c, { limit: host.outputLimit });
  },
});
