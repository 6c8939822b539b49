/**
 * Where a compiled cell calls the interrupt check (see `worker/cell_interrupt.ts`): at the top of
 * every loop body it contains, functions and classes included (the compiler's own walk of the
 * cell calls {@linkcode loopCheck} on each node), so a loop that runs after an
 * `await`, or in a function a later cell calls, stops at its cell's deadline or cancel instead of
 * costing the kernel its process. Insertions only: no line moves, and the text is recognised and
 * removed again where a function's source is shown (`withoutChecks`).
 *
 * @module
 */
import type { Node } from "acorn";
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

/** The insertions that put a check at the top of `node`'s body, if it is a loop. */
export function loopCheck(node: Node): Insertion[] {
  if (!LOOPS.has(node.type)) return [];
  const body = (node as Node & { body: Node }).body;
  if (body.type === "BlockStatement") {
    return [{ at: body.start + 1, text: `${INTERRUPT_CHECK}();` }];
  }
  return [
    { at: body.start, text: `{/*${INTERRUPT_CHECK}*/${INTERRUPT_CHECK}();` },
    { at: body.end, text: `/*${INTERRUPT_CHECK}*/}` },
  ];
}
