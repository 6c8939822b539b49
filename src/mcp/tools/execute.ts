/**
 * The `execute` tool: runs a cell.
 *
 * @module
 */
import { z } from "zod";
import { executeResult } from "../content.ts";
import { reportProgress } from "../progress.ts";
import { defineTool, kernelArg } from "./tool.ts";

const errorShape = z.object({ name: z.string(), message: z.string(), stack: z.string() });

/** Runs TypeScript or JavaScript in a kernel; every status but `ok` is an `isError` result. */
export const execute = defineTool({
  name: "execute",
  title: "Run code",
  description: "Runs TypeScript or JavaScript in the session's kernel. Top-level let, const, " +
    "class, function and import bindings persist to later calls; top-level await works. " +
    "Returns stdout, stderr, the last expression's value (also kept in `_`) and any error " +
    "(kept in `_error`). A cell past its timeout, or cancelled, is interrupted and the kernel " +
    "keeps its variables; progress notifications carry its newest output while it runs.",
  // A cell may ask for up to ten times the host's default timeout.
  inputSchema: (host) => {
    const maxTimeoutMs = host.cellTimeoutMs * 10;
    return {
      code: z.string().describe("The cell to run"),
      kernel: kernelArg,
      timeout_ms: z.number().int().min(1).max(maxTimeoutMs).optional().describe(
        `Time allowed for this cell in ms (default ${host.cellTimeoutMs}, at most ${maxTimeoutMs})`,
      ),
    };
  },
  outputSchema: {
    status: z.enum(["ok", "error", "timeout", "cancelled", "killed"]),
    execution_count: z.number().int(),
    result: z.string().optional(),
    stdout: z.string(),
    stderr: z.string(),
    error: errorShape.optional(),
    duration_ms: z.number(),
    kernel: z.string(),
    restored_from: z.object({ version: z.number().int(), saved_at: z.string() }).optional(),
    lost: z.string().optional(),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  async handler({ code, timeout_ms, kernel }, { host, caller, call }) {
    const id = await host.resolveKernel(caller, kernel);
    const progress = call.progress && reportProgress(call.progress);
    try {
      const result = await host.execute(id, code, {
        timeoutMs: timeout_ms,
        signal: call.signal,
        onOutput: progress?.onOutput,
      });
      return executeResult(result, id);
    } finally {
      progress?.stop();
    }
  },
});
