/**
 * The `close_kernel` tool: stops a created kernel and deletes its state.
 *
 * @module
 */
import { textResult } from "../content.ts";
import { defineTool, requiredKernelArg } from "./tool.ts";

/** Stops a kernel the calling session created and deletes its state and files. */
export const closeKernel = defineTool({
  name: "close_kernel",
  title: "Close a kernel",
  description: "Stops a kernel this session created and deletes its state and files. The " +
    "session's default kernel ends with the session; use reset_kernel to empty it. Without a " +
    "session (MCP 2026-07-28 over HTTP), any holder of a handle may close a kernel created " +
    "without a session.",
  inputSchema: { kernel: requiredKernelArg },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  async handler({ kernel }, { host, caller }) {
    await host.deleteKernel(kernel, { by: caller });
    return textResult(`Closed kernel ${kernel}; its state is deleted.`);
  },
});
