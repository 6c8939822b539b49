/**
 * The `kernel_info` tool: facts about one kernel.
 *
 * @module
 */
import { z } from "zod";
import { textResult } from "../content.ts";
import { defineTool, kernelArg, kernelSummary, summaryFields } from "./tool.ts";

/** Id, times, execution count, last save, liveness and memory of a kernel, without starting it. */
export const kernelInfo = defineTool({
  name: "kernel_info",
  title: "Kernel facts",
  description: "Id, creation and last activity, execution count, last save, whether it runs " +
    "now and its resident memory. The id reaches this kernel from any session.",
  inputSchema: { kernel: kernelArg },
  outputSchema: { ...kernelSummary, memory_bytes: z.number().nullable() },
  reportsKernelState: true,
  annotations: { readOnlyHint: true },
  async handler({ kernel }, { host, caller }) {
    const info = await host.kernelInfo(await host.resolveKernel(caller, kernel));
    const structured = {
      kernel: info.kernel,
      ...summaryFields(info),
      memory_bytes: info.memoryBytes,
    };
    const text = Object.entries(structured).map(([k, v]) => `${k}: ${v}`).join("\n");
    return textResult(text, structured);
  },
});
