/**
 * Where a compiled cell calls the interrupt check (see `worker/cell_interrupt.ts`): at the top of
 * every loop body it contains, functions and classes included, so a loop that runs after an
 * `await`, or in a function a later cell calls, stops at its cell's deadline or cancel instead of
 * costing the kernel its process. Insertions only: no line moves, and the text is recognised and
 * removed again where a function's source is shown (`withoutChecks`).
 *
 * @module
 */
import type { Node } from "acorn";
import { walk } from "./ast_walk.ts";
import { INTERRUPT_CHECK } from "./worker/cell_interrupt.ts";

/** Text to insert at an offset of the cell's code. */
export interface Insertion {
  at: number;
  text: string;
}

const LOOPS = new Set([
  "WhileStatement",
  "DoWhileStatement",
  "ForStatement",
  "ForInStatement",
  "ForOfStatement",
]);

/** The insertions that put a check at the top of each loop body under `program`. */
export function loopChecks(program: Node): Insertion[] {
  const insertions: Insertion[] = [];
  walk(program, (node) => {
    if (!LOOPS.has(node.type)) return;
    const body = (node as Node & { body: Node }).body;
    if (body.type === "BlockStatement") {
      insertions.push({ at: body.start + 1, text: `${INTERRUPT_CHECK}();` });
    } else {
      insertions.push({ at: body.start, text: `{/*${INTERRUPT_CHECK}*/${INTERRUPT_CHECK}();` });
      insertions.push({ at: body.end, text: `/*${INTERRUPT_CHECK}*/}` });
    }
  });
  return insertions;
}
