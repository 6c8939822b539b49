/**
 * The source of a function as the agent wrote it. Cells run as JavaScript: the host strips their
 * types in place (`cell_compiler.ts`), so `Function.prototype.toString` gives the stripped text,
 * with blanks where the types were (`constructor(name        , rows       )`), and the loops'
 * interrupt checks. The Worker keeps the TypeScript of recent cells that had types, and a
 * function found in one is shown in its TypeScript.
 *
 * @module
 */
import { withoutChecks } from "./cell_interrupt.ts";

/** Characters of cell text kept, both forms counted; the oldest cells go first. */
const MAX_KEPT_CHARS = 4_000_000;

const cells: { compiled: string; typescript: string }[] = [];
let kept = 0;

/**
 * Keeps a cell's TypeScript beside the code the Worker ran (`compiled`, its prefix line first):
 * both have the same lines, and each line the same characters where the TypeScript had no types.
 */
export function recordTypeScript(compiled: string, typescript: string): void {
  cells.push({ compiled, typescript });
  kept += compiled.length + typescript.length;
  while (kept > MAX_KEPT_CHARS && cells.length > 0) {
    const old = cells.shift()!;
    kept -= old.compiled.length + old.typescript.length;
  }
}

/** What a function's source looks like to the agent: its TypeScript if known, no checks. */
export function shownSource(fn: unknown): string {
  const js = Function.prototype.toString.call(fn);
  const plain = withoutChecks(js);
  // Stripped types leave blanks after code (`(n        )`); text without any is shown as it is,
  // without a search through the kept cells (list_variables previews every function).
  if (!/\S {2}/.test(plain)) return plain;
  for (let i = cells.length - 1; i >= 0; i--) {
    const cell = cells[i]!;
    const at = cell.compiled.lastIndexOf(js);
    if (at >= 0) return typescriptAt(cell, at, plain) ?? plain;
  }
  return plain;
}

/**
 * The TypeScript of the function whose compiled text starts at `at`, or `undefined` when the
 * two do not line up (a cell compiled in transform mode, an import rewritten on that line).
 */
function typescriptAt(
  cell: { compiled: string; typescript: string },
  at: number,
  plain: string,
): string | undefined {
  const before = cell.compiled.slice(0, at);
  let line = 0;
  for (let i = before.indexOf("\n"); i >= 0; i = before.indexOf("\n", i + 1)) line++;
  // The compiled code's first line is its prefix: its line 1 is the TypeScript's line 0.
  if (line < 1) return undefined;
  let start = 0;
  for (let l = 1; l < line; l++) {
    const next = cell.typescript.indexOf("\n", start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  start += withoutChecks(before.slice(before.lastIndexOf("\n") + 1)).length;
  const candidate = cell.typescript.slice(start, start + plain.length);
  if (candidate.length !== plain.length) return undefined;
  // Stripping only blanks types: every other character is where it was.
  for (let i = 0; i < plain.length; i++) {
    if (plain[i] !== candidate[i] && plain[i] !== " ") return undefined;
  }
  return candidate;
}
