/**
 * MCP content built in one place: text blocks, tool errors, the `execute` result's text,
 * images and structured views, and the size budget of text for a model. What one MIME bundle
 * shows is decided in `mime_content.ts`.
 *
 * @module
 */
import { plainText, quoted } from "../model_text.ts";
import type { CallToolResult, ImageContent } from "@modelcontextprotocol/server";
import type { BackgroundCell } from "../background_cells.ts";
import type { ExecuteResult } from "../kernel/kernel_handle.ts";
import { bundleParts, bundleText, type ContentPart } from "./mime_content.ts";
import { cutHint, OUTPUT_LIMIT, truncateAll } from "./text_budget.ts";
import { NOT_CHECKED } from "./kernel_state.ts";

/**
 * A result of one text block, with structured content when the tool has an output schema.
 * The text is taken as it is: callers bound what can grow (`text_budget.ts`).
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

/** Images one result carries at most; later ones are named in its text instead. */
export const MAX_IMAGES = 20;

/** How a result is made. */
export interface ResultOptions {
  /** The call created the kernel it ran in (a sessionless call without a handle). */
  created?: boolean;
  /** Characters of text the result gives at most, about (default {@linkcode OUTPUT_LIMIT}). */
  limit?: number;
}

/** The line that hands a new kernel's handle to the agent, first in the text; pure. */
export function handleLine(kernel: string, options: ResultOptions): string[] {
  return options.created
    ? [`New kernel, handle ${kernel}: pass kernel: "${kernel}" on later calls to keep its state.`]
    : [];
}

/**
 * The `execute` tool's result, and `isError` for every status but `ok`. Without images it is
 * the text of {@linkcode executeText} and the structured view of {@linkcode executeStructured}.
 * Its texts share one budget, so a long output cannot push the value or the error out of view.
 * With images it has no `structuredContent`: a client that finds some shows the model only
 * that (Claude Code does), dropping the images; so its text holds everything the structured
 * view would, the kernel id included, and the images sit in order among the text.
 *
 * @param kernel The id of the kernel that ran the cell.
 */
export function executeResult(
  r: ExecuteResult,
  kernel: string,
  options: ResultOptions = {},
): CallToolResult {
  const limit = options.limit ?? OUTPUT_LIMIT;
  const parts = [...handleLine(kernel, options), ...executeParts(r)];
  const isError = r.status !== "ok";
  if (parts.every((p) => typeof p === "string")) {
    return {
      content: [{ type: "text", text: truncateAll(parts as string[], limit).join("\n") }],
      structuredContent: {
        ...executeStructured(r, kernel, limit),
        ...(options.created && { new_kernel: true }),
      },
      isError,
    };
  }
  return { content: contentBlocks([...parts, `kernel: ${kernel}`], limit), isError };
}

/**
 * The structured view of an `execute` result (DESIGN.md section 3). Its texts share the
 * budget of `limit` characters; when one was cut, `truncated` says how to get the rest.
 */
export function executeStructured(
  r: ExecuteResult,
  kernel: string,
  limit = OUTPUT_LIMIT,
): Record<string, unknown> {
  const plain = r.data?.["text/plain"];
  const rich = r.data && bundleText(r.data);
  const displays = r.displays?.map(bundleText) ?? [];
  const texts = [
    plain ?? "",
    // A value's markdown (or HTML's text) when it says more than text/plain.
    rich !== undefined && rich !== plain ? rich : "",
    r.stdout,
    r.stderr,
    r.error?.message ?? "",
    r.error?.stack ?? "",
    ...displays,
  ];
  const cut = truncateAll(texts, limit);
  const [result, resultText, stdout, stderr, message, stack] = cut;
  return {
    status: r.status,
    execution_count: r.executionCount,
    ...(plain !== undefined && { result }),
    ...(resultText && { result_text: resultText }),
    ...(r.displays && { displays: cut.slice(6, 6 + displays.length) }),
    stdout,
    stderr,
    ...(r.error && { error: { name: r.error.name, message, stack } }),
    duration_ms: Math.round(r.durationMs * 1000) / 1000,
    kernel,
    ...(r.restoredFrom && {
      restored_from: {
        version: r.restoredFrom.version,
        saved_at: new Date(r.restoredFrom.savedAt).toISOString(),
      },
    }),
    ...(r.restoredFrom?.unchecked && { not_checked: r.restoredFrom.unchecked }),
    ...(r.lost && { lost: r.lost }),
    ...(r.saveFailed && { save_failed: r.saveFailed }),
    ...(cut.length > texts.length && { truncated: cutHint(limit) }),
  };
}

/**
 * The text an agent reads for an `execute` result: status and count first, then the output,
 * what the cell displayed, the value and the error, bounded in size. Images are named here by
 * type and size (see {@linkcode executeResult} for the images themselves).
 */
export function executeText(r: ExecuteResult, limit = OUTPUT_LIMIT): string {
  const parts = executeParts(r).map((p) => typeof p === "string" ? p : imageName(p));
  return truncateAll(parts, limit).join("\n");
}

/** An `execute` result's parts in the order a model reads them. */
function executeParts(r: ExecuteResult): ContentPart[] {
  const parts: ContentPart[] = [];
  const ms = r.durationMs < 10 ? r.durationMs.toFixed(1) : Math.round(r.durationMs).toString();
  parts.push(`[${r.executionCount}] ${r.status} (${ms} ms)`);
  // What the cell printed is quoted, so none of it can pass for the lines written here.
  if (r.stdout) parts.push(`stdout:\n${quoted(plainText(r.stdout))}`);
  if (r.stderr) parts.push(`stderr:\n${quoted(plainText(r.stderr))}`);
  for (const bundle of r.displays ?? []) parts.push(...bundleParts(bundle));
  if (r.data !== undefined) parts.push(...bundleParts(r.data, `Out[${r.executionCount}]: `));
  if (r.error) parts.push(plainText(r.error.stack || `${r.error.name}: ${r.error.message}`));
  if (r.restoredFrom) {
    const at = new Date(r.restoredFrom.savedAt).toISOString();
    parts.push(`Restored from snapshot version ${r.restoredFrom.version} (saved ${at})`);
    if (r.restoredFrom.unchecked) parts.push(`${NOT_CHECKED}${r.restoredFrom.unchecked}`);
  }
  if (r.lost) parts.push(`Lost: ${r.lost}`);
  if (r.saveFailed) parts.push(`Not saved: ${r.saveFailed}`);
  return parts;
}

/**
 * Content blocks from parts: neighbouring text joined in one block, the texts sharing the
 * budget of `limit` characters, and images past {@linkcode MAX_IMAGES} named in text instead.
 */
function contentBlocks(parts: ContentPart[], limit: number): CallToolResult["content"] {
  const texts = parts.filter((p) => typeof p === "string");
  const cut = truncateAll(texts, limit);
  let next = 0;
  const budgeted = parts.map((p) => typeof p === "string" ? cut[next++]! : p);
  budgeted.push(...cut.slice(texts.length));
  const blocks: CallToolResult["content"] = [];
  let text: string[] = [];
  let images = 0;
  const flush = () => {
    if (text.length > 0) blocks.push({ type: "text", text: text.join("\n") });
    text = [];
  };
  for (const part of budgeted) {
    if (typeof part === "string") text.push(part);
    else if (++images > MAX_IMAGES) {
      text.push(`${imageName(part)} not shown: a result carries at most ${MAX_IMAGES} images`);
    } else {
      flush();
      blocks.push(part);
    }
  }
  flush();
  return blocks;
}

function imageName(image: ImageContent): string {
  return `[${image.mimeType}, ${Math.round(image.data.length * 3 / 4)} bytes]`;
}

/**
 * A background cell's result: while it runs, `running` with its output so far; once done, the
 * `execute` result it ended with (without structured content when it has images, as there);
 * if it ended without one, `killed` with why. Each carries the cell's handle.
 *
 * @param options.now The clock, for the time it has run so far.
 */
export function cellResult(
  c: BackgroundCell,
  options: ResultOptions & { now?: number } = {},
): CallToolResult {
  const now = options.now ?? Date.now();
  const limit = options.limit ?? OUTPUT_LIMIT;
  const handle = handleLine(c.kernel, options);
  if (c.result) {
    const parts = [...handle, `cell ${c.cell}`, ...executeParts(c.result)];
    const isError = c.result.status !== "ok";
    if (parts.every((p) => typeof p === "string")) {
      return {
        content: contentBlocks(parts, limit),
        structuredContent: { ...executeStructured(c.result, c.kernel, limit), cell: c.cell },
        isError,
      };
    }
    return { content: contentBlocks([...parts, `kernel: ${c.kernel}`], limit), isError };
  }
  const ms = now - c.startedAt;
  const base = { cell: c.cell, kernel: c.kernel, ...budgetedOutput(c, limit), duration_ms: ms };
  if (c.lost) {
    const error = { name: "CellLostError", message: c.lost, stack: `CellLostError: ${c.lost}` };
    return {
      content: [{
        type: "text",
        text: truncateAll([`cell ${c.cell} killed: ${c.lost}`], limit).join("\n"),
      }],
      structuredContent: { status: "killed", ...base, error, lost: c.lost },
      isError: true,
    };
  }
  const parts = [
    ...handle,
    `cell ${c.cell} running (${Math.round(ms)} ms so far); ask cell_status for more`,
  ];
  if (c.stdout) parts.push(`stdout so far:\n${quoted(plainText(c.stdout))}`);
  if (c.stderr) parts.push(`stderr so far:\n${quoted(plainText(c.stderr))}`);
  return {
    content: [{ type: "text", text: truncateAll(parts, limit).join("\n") }],
    structuredContent: {
      status: "running",
      ...base,
      ...(options.created && { new_kernel: true }),
    },
  };
}

/** A running cell's output so far within the budget, with `truncated` when it was cut. */
function budgetedOutput(c: BackgroundCell, limit: number): Record<string, string> {
  const [stdout = "", stderr = "", hint] = truncateAll([c.stdout, c.stderr], limit);
  return { stdout, stderr, ...(hint && { truncated: hint }) };
}
