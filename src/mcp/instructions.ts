/**
 * What the server tells a model it has (the `instructions` of `initialize` and
 * `server/discover`): the kernel, where files live, the limits, what display does, the prelude,
 * and, without a session, how handles work. Pure.
 *
 * @module
 */
import type { HostLimits } from "../host.ts";

/** The instructions for a caller with (or, for 2026-07-28 over HTTP, without) a session. */
export function instructions(limits: HostLimits, options: { sessionless: boolean }): string {
  const lines = [
    "A persistent TypeScript/JavaScript kernel (Deno 2). Variables, functions, classes and " +
    "imports persist between execute calls, like a notebook; top-level await works; the last " +
    "expression's value is shown (and kept in `_`).",
    "Import packages with npm: specifiers written literally (import * as aq from " +
    '"npm:arquero@7"); the host fetches them. There is no network.',
    "Files: the kernel's working directory is its own folder, the only place it can read and " +
    `write (at most ${limits.diskQuotaMb.toLocaleString("en-US")} MB); upload_file and ` +
    "download_file move files in and out, and they are resources kernel://{kernel}/files/{path}.",
    `Limits: a cell may run ${limits.cellTimeoutS} s (timeout_ms asks for up to ten times that; ` +
    "background: true returns at once, then poll cell_status); a kernel may use " +
    `${limits.memoryLimitMb} MB of memory. A cell past its time or cancelled is interrupted and ` +
    "the kernel keeps its variables (only a loop inside library code or eval, after an await, " +
    "cannot be: the kernel then restarts from its last save); results say what a restart " +
    "restored and lost.",
    "Display: Deno.jupyter.display(value), the md/html/svg templates and display(...) show " +
    "rich output; images and SVG charts (Vega-Lite specs too) arrive as images.",
  ];
  if (limits.preludeDefines !== undefined) {
    lines.push(
      `Every kernel starts with these names loaded (a prelude): ${limits.preludeDefines}.`,
    );
  } else if (limits.prelude) {
    lines.push(
      "A prelude runs in every new or reset kernel: its names are usable, not listed by " +
        "list_variables.",
    );
  }
  if (options.sessionless) {
    lines.push(
      "Each kernel has a handle: execute without one creates a kernel and returns its handle; " +
        "pass it as `kernel` on every later call.",
    );
  }
  return lines.join("\n");
}
