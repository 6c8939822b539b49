/**
 * The `execute` tool: runs a cell.
 *
 * @module
 */
import { z } from "zod";
import { cellResult, executeResult } from "../content.ts";
import { reportProgress } from "../progress.ts";
import { defineTool, kernelArg } from "./tool.ts";

/** Runs TypeScript or JavaScript in a kernel; every status but `ok` is an `isError` result. */
export const execute = defineTool({
  name: "execute",
  title: "Run code",
  description: "Runs TypeScript or JavaScript in the session's kernel. Top-level let, const, " +
    "class, function and import bindings persist to later calls; top-level await works. " +
    "Returns stdout, stderr, the last expression's value (also kept in `_`) and any error " +
    "(kept in `_error`). A cell past its timeout, or cancelled, is interrupted and the kernel " +
    "keeps its variables (a loop inside library code after an await cannot be: the kernel then " +
    "restarts from its last save and the result says what was lost); progress notifications carry its newest output while it runs. " +
    "With background: true it returns at once with a cell handle for cell_status. Without a " +
    "session (MCP 2026-07-28 over HTTP), a call without `kernel` creates a kernel and returns " +
    "its handle: pass it as `kernel` on later calls to keep the state.",
  // A cell may ask for up to ten times the host's default timeout.
  inputSchema: (host) => {
    const maxTimeoutMs = host.cellTimeoutMs * 10;
    return {
      code: z.string().describe("The cell to run"),
      kernel: kernelArg,
      timeout_ms: z.number().int().min(1).max(maxTimeoutMs).optional().describe(
        `Time allowed for this cell in ms (default ${host.cellTimeoutMs}, at most ${maxTimeoutMs})`,
      ),
      background: z.boolean().optional().describe(
        "Return at once with status running and a cell handle; follow it with cell_status. " +
          "Later requests to this kernel wait for it.",
      ),
    };
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  async handler({ code, timeout_ms, kernel, background }, { host, caller, call }) {
    // Without a session there is no default kernel: a call without a handle creates one.
    const created = kernel === undefined && caller.defaultKernel === undefined;
    const id = created
      ? await host.createKernelFor(caller)
      : await host.resolveKernel(caller, kernel);
    if (background) {
      return cellResult(await host.startCell(id, code, { timeoutMs: timeout_ms }), {
        created,
        limit: host.outputLimit,
      });
    }
    const progress = call.progress && reportProgress(call.progress);
    try {
      const result = await host.execute(id, code, {
        timeoutMs: timeout_ms,
        signal: call.signal,
        onOutput: progress?.onOutput,
      });
      return executeResult(result, id, { created, limit: host.outputLimit });
    } finally {
      progress?.stop();
    }
  },
});
