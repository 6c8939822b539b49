/**
 * What code compiled by `cell_compiler.ts` in the host and the kernel's Worker agree on: the
 * global symbols compiled code reaches the Worker through, and the declaration kinds it reports.
 * It lives in the Worker's folder because a sandbox may read only that folder.
 *
 * @module
 */

/** How a top-level binding was declared; a REPL may declare it again only the same way. */
export type DeclarationKind = "var" | "let" | "const" | "function" | "class";

/** Global symbol under which compiled cells find the module loader (`module_loader.ts`). */
export const LOADER_KEY = Symbol.for("mcp-kernel-host.loader");

/** Global symbol of the function a compiled cell's first line calls (see `repl.ts`). */
export const CELL_KEY = Symbol.for("mcp-kernel-host.cell");

/**
 * The expression that reads a global symbol's value in generated code.
 *
 * @param key A symbol from the global registry (`Symbol.for`).
 * @throws {TypeError} When `key` is not in the global registry, so generated code could not
 * name it.
 * @example
 * ```ts
 * globalAccess(LOADER_KEY); // 'globalThis[Symbol.for("mcp-kernel-host.loader")]'
 * ```
 */
export function globalAccess(key: symbol): string {
  const name = Symbol.keyFor(key);
  if (name === undefined) {
    throw new TypeError(`Cannot name ${String(key)} in generated code: it is not a Symbol.for key`);
  }
  return `globalThis[Symbol.for(${JSON.stringify(name)})]`;
}
