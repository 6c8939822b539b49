/**
 * The text an agent reads for an `execute` result: status and count first, then the output,
 * the value and the error, bounded in size.
 *
 * @module
 */
import type { ExecuteResult } from "../kernel/kernel_handle.ts";

/** Characters of text returned per result before it is cut with a note (DESIGN.md section 2). */
export const TEXT_LIMIT = 100_000;

/** Renders an `execute` result for the model. */
export function executeText(r: ExecuteResult): string {
  const parts: string[] = [];
  const ms = r.durationMs < 10 ? r.durationMs.toFixed(1) : Math.round(r.durationMs).toString();
  parts.push(`[${r.executionCount}] ${r.status} (${ms} ms)`);
  if (r.stdout) parts.push(`stdout:\n${r.stdout.replace(/\n$/, "")}`);
  if (r.stderr) parts.push(`stderr:\n${r.stderr.replace(/\n$/, "")}`);
  if (r.result !== undefined) parts.push(`Out[${r.executionCount}]: ${r.result}`);
  if (r.error) parts.push(r.error.stack || `${r.error.name}: ${r.error.message}`);
  if (r.restoredFrom) {
    const at = new Date(r.restoredFrom.savedAt).toISOString();
    parts.push(`Restored from snapshot version ${r.restoredFrom.version} (saved ${at})`);
  }
  if (r.lost) parts.push(`Lost: ${r.lost}`);

  return truncate(parts.join("\n"));
}

/** Cuts text at {@linkcode TEXT_LIMIT} characters, saying how much was left out. */
export function truncate(text: string, limit = TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  const rest = (text.length - limit).toLocaleString("en-US");
  return `${text.slice(0, limit)}\n[truncated: ${rest} more characters]`;
}
