/**
 * What a tool other than `execute` says about its kernel's state, so that no loss goes unsaid on
 * any tool: a restore since the last cell and what it lost, and a failed save. `execute` and
 * `cell_status` say it in their own words (`content.ts`).
 *
 * @module
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { KernelStateNotice } from "../host.ts";

/** How the line naming what a restore brought back unchecked begins (not `Lost:`). */
export const NOT_CHECKED = "Not checked (restored, a caveat rather than a loss): ";

/** The optional fields every such tool's structured output gains. */
export const kernelStateShape = {
  restored_from: z.object({ version: z.number().int(), saved_at: z.string() }).optional()
    .describe("The kernel came back from this snapshot since its last cell"),
  lost: z.string().optional().describe("What that restore could not bring back, by name"),
  not_checked: z.string().optional().describe(
    "What that restore brought back without looking into it for captured variables or " +
      "private fields (a caveat, not a loss)",
  ),
  save_failed: z.string().optional().describe(
    "Why the kernel's latest save failed; until a save works its state survives no restart",
  ),
};

/** `result` with the notice's lines after its first text block and its fields; pure. */
export function withKernelState(
  result: CallToolResult,
  notice: KernelStateNotice,
): CallToolResult {
  const lines: string[] = [];
  const fields: Record<string, unknown> = {};
  if (notice.restoredFrom) {
    const at = new Date(notice.restoredFrom.savedAt).toISOString();
    lines.push(`Restored from snapshot version ${notice.restoredFrom.version} (saved ${at})`);
    fields.restored_from = { version: notice.restoredFrom.version, saved_at: at };
    if (notice.restoredFrom.unchecked) {
      lines.push(`${NOT_CHECKED}${notice.restoredFrom.unchecked}`);
      fields.not_checked = notice.restoredFrom.unchecked;
    }
  }
  if (notice.lost) {
    lines.push(`Lost: ${notice.lost}`);
    fields.lost = notice.lost;
  }
  if (notice.saveFailed) {
    lines.push(`Not saved: ${notice.saveFailed}`);
    fields.save_failed = notice.saveFailed;
  }
  if (lines.length === 0) return result;
  const content = [...result.content];
  const first = content.findIndex((c) => c.type === "text");
  const text = lines.join("\n");
  if (first === -1) content.push({ type: "text", text });
  else {
    const block = content[first] as { type: "text"; text: string };
    content[first] = { ...block, text: `${block.text}\n${text}` };
  }
  return {
    ...result,
    content,
    ...(result.structuredContent !== undefined && {
      structuredContent: { ...(result.structuredContent as Record<string, unknown>), ...fields },
    }),
  };
}
