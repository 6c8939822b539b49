/**
 * MCP content built in one place: text blocks, tool errors, the `execute` result's text and
 * structured views, and the size budget of text for a model.
 *
 * @module
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import type { BackgroundCell } from "../background_cells.ts";
import type { ExecuteResult } from "../kernel/kernel_handle.ts";
import type { MimeBundle } from "../kernel/protocol.ts";

/** Characters of text returned per result before it is cut with a note (DESIGN.md section 2). */
export const TEXT_LIMIT = 100_000;

/** Cuts text at {@linkcode TEXT_LIMIT} characters, saying how much was left out. */
export function truncate(text: string, limit = TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  const rest = (text.length - limit).toLocaleString("en-US");
  return `${text.slice(0, limit)}\n[truncated: ${rest} more characters]`;
}

/**
 * A result of one text block, with structured content when the tool has an output schema.
 * The text is taken as it is: callers truncate what can grow.
 */
export function textResult(
  text: string,
  structuredContent?: Record<string, unknown>,
): CallToolResult {
  return {
    content: [{ type: "text", text }],
    ...(structuredContent && { structuredContent }),
  };
}

/** A tool error the model can read and correct itself from; the session is unaffected. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/**
 * The text a model reads for a value. Of its MIME bundle only `text/markdown` (preferred) and
 * `text/plain` become text for now; the other types are ignored until the rich-results issue
 * (DESIGN.md section 4, item 9: images as `image` content, SVG and Vega rendered, tables).
 */
export function valueText(data: MimeBundle): string {
  const markdown = data["text/markdown"];
  return typeof markdown === "string" ? markdown : data["text/plain"];
}

/** Whether the call created the kernel it ran in (a sessionless call without a handle). */
export interface NewKernel {
  created?: boolean;
}

/** The line that hands a new kernel's handle to the agent, first in the text; pure. */
export function handleLine(kernel: string, options: NewKernel): string {
  return options.created
    ? `New kernel, handle ${kernel}: pass kernel: "${kernel}" on later calls to keep its state.\n`
    : "";
}

/**
 * The `execute` tool's result: the text of {@linkcode executeText}, the structured view of its
 * output schema, and `isError` for every status but `ok`.
 *
 * @param kernel The id of the kernel that ran the cell.
 */
export function executeResult(
  r: ExecuteResult,
  kernel: string,
  options: NewKernel = {},
): CallToolResult {
  const structured = {
    status: r.status,
    execution_count: r.executionCount,
    ...(r.data !== undefined && { result: truncate(r.data["text/plain"]) }),
    stdout: r.stdout,
    stderr: r.stderr,
    ...(r.error && { error: r.error }),
    duration_ms: Math.round(r.durationMs * 1000) / 1000,
    kernel,
    ...(options.created && { new_kernel: true }),
    ...(r.restoredFrom && {
      restored_from: {
        version: r.restoredFrom.version,
        saved_at: new Date(r.restoredFrom.savedAt).toISOString(),
      },
    }),
    ...(r.lost && { lost: r.lost }),
    ...(r.saveFailed && { save_failed: r.saveFailed }),
  };
  return {
    content: [{ type: "text", text: handleLine(kernel, options) + executeText(r) }],
    structuredContent: structured,
    isError: r.status !== "ok",
  };
}

/**
 * The text an agent reads for an `execute` result: status and count first, then the output,
 * the value and the error, bounded in size.
 */
export function executeText(r: ExecuteResult): string {
  const parts: string[] = [];
  const ms = r.durationMs < 10 ? r.durationMs.toFixed(1) : Math.round(r.durationMs).toString();
  parts.push(`[${r.executionCount}] ${r.status} (${ms} ms)`);
  if (r.stdout) parts.push(`stdout:\n${r.stdout.replace(/\n$/, "")}`);
  if (r.stderr) parts.push(`stderr:\n${r.stderr.replace(/\n$/, "")}`);
  if (r.data !== undefined) parts.push(`Out[${r.executionCount}]: ${valueText(r.data)}`);
  if (r.error) parts.push(r.error.stack || `${r.error.name}: ${r.error.message}`);
  if (r.restoredFrom) {
    const at = new Date(r.restoredFrom.savedAt).toISOString();
    parts.push(`Restored from snapshot version ${r.restoredFrom.version} (saved ${at})`);
  }
  if (r.lost) parts.push(`Lost: ${r.lost}`);
  if (r.saveFailed) parts.push(`Not saved: ${r.saveFailed}`);

  return truncate(parts.join("\n"));
}

/**
 * A background cell's result: while it runs, `running` with its output so far; once done, the
 * `execute` result it ended with; if it ended without one, `killed` with why. Each carries the
 * cell's handle.
 *
 * @param options.now The clock, for the time it has run so far.
 */
export function cellResult(
  c: BackgroundCell,
  options: NewKernel & { now?: number } = {},
): CallToolResult {
  const now = options.now ?? Date.now();
  const handle = handleLine(c.kernel, options);
  if (c.result) {
    const done = executeResult(c.result, c.kernel);
    return {
      ...done,
      content: [{ type: "text", text: `${handle}cell ${c.cell}\n${executeText(c.result)}` }],
      structuredContent: { ...(done.structuredContent as Record<string, unknown>), cell: c.cell },
    };
  }
  const ms = now - c.startedAt;
  const base = {
    cell: c.cell,
    kernel: c.kernel,
    stdout: c.stdout,
    stderr: c.stderr,
    duration_ms: ms,
  };
  if (c.lost) {
    const error = { name: "CellLostError", message: c.lost, stack: `CellLostError: ${c.lost}` };
    return {
      content: [{ type: "text", text: truncate(`cell ${c.cell} killed: ${c.lost}`) }],
      structuredContent: { status: "killed", ...base, error, lost: c.lost },
      isError: true,
    };
  }
  const parts = [
    `${handle}cell ${c.cell} running (${Math.round(ms)} ms so far); ask cell_status for more`,
  ];
  if (c.stdout) parts.push(`stdout so far:\n${c.stdout.replace(/\n$/, "")}`);
  if (c.stderr) parts.push(`stderr so far:\n${c.stderr.replace(/\n$/, "")}`);
  return {
    content: [{ type: "text", text: truncate(parts.join("\n")) }],
    structuredContent: {
      status: "running",
      ...base,
      ...(options.created && { new_kernel: true }),
    },
  };
}
