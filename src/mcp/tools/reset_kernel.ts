/**
 * The `reset_kernel` tool: an empty namespace, same kernel id.
 *
 * @module
 */
import { textResult } from "../content.ts";
import { defineTool, kernelArg } from "./tool.ts";

/** Empties the kernel's namespace and re-runs the prelude. */
export const resetKernel = defineTool({
  name: "reset_kernel",
  title: "Reset the kernel",
  description: "Empties the kernel's namespace and re-runs the prelude; same kernel id.",
  inputSchema: { kernel: kernelArg },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  async handler({ kernel }, { host, caller }) {
    const saved = await host.reset(await host.resolveKernel(caller, kernel));
    return textResult(
      "The kernel was reset: its namespace is empty." +
        (saved ? "" : " Saving it so failed: a crash before the next save would bring back the " +
          "namespace of its last save."),
    );
  },
});
