/**
 * A visit of every node of an ESTree tree, as acorn parses it.
 *
 * @module
 */
import type { Node } from "acorn";

/**
 * Calls `visit` on `node` and on every node below it, parents before children; below a node for
 * which `visit` returns `false`, nothing is visited.
 *
 * @example
 * ```ts
 * walk(parse(code, { ecmaVersion: "latest" }), (n) => {
 *   if (n.type === "ImportExpression") found.push(n);
 * });
 * ```
 */
export function walk(node: Node, visit: (node: Node) => void | boolean): void {
  if (visit(node) === false) return;
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) walk(item, visit);
    } else if (isNode(value)) {
      walk(value, visit);
    }
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null &&
    typeof (value as { type?: unknown }).type === "string" &&
    typeof (value as { start?: unknown }).start === "number";
}
