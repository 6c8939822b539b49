/**
 * The `complete` tool: completion candidates at a cursor.
 *
 * @module
 */
import { z } from "zod";
import { textResult, toolError } from "../content.ts";
import { listViews } from "../list_budget.ts";
import { defineTool, kernelArg } from "./tool.ts";

/** Completion candidates; positions are JavaScript string indices (UTF-16 units). */
export const complete = defineTool({
  name: "complete",
  title: "Complete code",
  description: "Completion candidates at a cursor: global names, members along the " +
    'prototype chain, and keys inside obj["…. Positions are JavaScript string indices.',
  inputSchema: {
    code: z.string(),
    cursor: z.number().int().min(0).optional().describe("Index in code (default: the end)"),
    kernel: kernelArg,
  },
  outputSchema: {
    matches: z.array(z.string()),
    cursor_start: z.number().int(),
    cursor_end: z.number().int(),
    omitted: z.number().int().optional().describe("Matches left out to stay within the budget"),
    truncated: z.string().optional().describe("What was left out, and how to see it"),
  },
  reportsKernelState: true,
  annotations: { readOnlyHint: true },
  async handler({ code, cursor, kernel }, { host, caller }) {
    if (cursor !== undefined && cursor > code.length) {
      return toolError(`cursor ${cursor} is past the end of the code (length ${code.length})`);
    }
    const c = await host.complete(await host.resolveKernel(caller, kernel), code, cursor);
    const views = listViews({
      items: c.matches,
      limit: host.outputLimit,
      line: (match) => match,
      empty: "(no matches)",
      noun: "matches",
      hint: "type more of the name to narrow them",
      structured: (kept) => ({
        matches: kept,
        cursor_start: c.cursorStart,
        cursor_end: c.cursorEnd,
      }),
    });
    return textResult(views.text, views.structured);
  },
});
