/**
 * The `create_kernel` tool: another kernel for this session.
 *
 * @module
 */
import { z } from "zod";
import { textResult } from "../content.ts";
import { defineTool } from "./tool.ts";

/** Creates a kernel owned by the calling session and returns its id. */
export const createKernel = defineTool({
  name: "create_kernel",
  title: "Create a kernel",
  description: "Creates another kernel owned by this session and returns its id; pass it as " +
    "`kernel` to the other tools. It is saved like the default kernel and deleted with the " +
    "session.",
  inputSchema: {},
  outputSchema: { kernel: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async handler(_args, { host, caller }) {
    const id = await host.createKernelFor(caller);
    return textResult(`Created kernel ${id}`, { kernel: id });
  },
});
