/**
 * Where a compiled cell checks, after each of its top-level `await`s, that it was not stopped
 * meanwhile (see `worker/cell_interrupt.ts`): `await x` becomes
 * `__mkhAwake(__mkhAt(), await x)`. Only the cell's own code, not the functions it defines: they
 * run again in later cells, and a function's source stays as it was written. Insertions only: no
 * line moves.
 *
 * @module
 */
import type { Node } from "acorn";
import { walk } from "./ast_walk.ts";
import type { Insertion } from "./loop_checks.ts";
import { AWAIT_CHECK, AWAIT_TOKEN } from "./worker/cell_interrupt.ts";

const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

/** The insertions around each `await` of `program` that is outside every function. */
export function awaitChecks(program: Node): Insertion[] {
  const out: Insertion[] = [];
  walk(program, (node) => {
    if (FUNCTIONS.has(node.type)) return false;
    if (node.type === "AwaitExpression") {
      out.push({ at: node.start, text: `${AWAIT_CHECK}(${AWAIT_TOKEN}(),` });
      out.push({ at: node.end, text: ")" });
    }
    return true;
  });
  return out;
}
