/**
 * What a module or a cell imports, found by reading its code, not running it: the `npm:`
 * specifiers the host must fetch before the code runs, and the files it imports by a literal
 * path (whose own imports count too). Also the rule of which packages a host allows.
 *
 * @module
 */
import type { Node, Program } from "acorn";
import { walk } from "./ast_walk.ts";
import { bodyParts } from "./worker/snapshot_body.ts";

/** The imports found in one piece of code; each list without repeats, in order of appearance. */
export interface ModuleImports {
  /** `npm:` specifiers written as string literals, e.g. `npm:superjson@2.2.6/dist/index.js`. */
  npm: string[];
  /** Other literal specifiers that name files: `./data.ts`, `../x.js`, `/abs.js`, `file:…`. */
  files: string[];
}

/** No imports at all. */
export const NO_IMPORTS: ModuleImports = { npm: [], files: [] };

/**
 * The literal import specifiers of a parsed program: import and export declarations with a
 * source, and `import()` whose argument is a string or a template without substitutions.
 * A computed `import("npm:" + name)` is not found here; the kernel refuses it (module_loader.ts).
 *
 * @param program JavaScript parsed by acorn, as a script (cells) or a module (files).
 */
export function moduleImports(program: Program): ModuleImports {
  const npm = new Set<string>();
  const files = new Set<string>();
  walk(program, (node) => {
    let source: string | undefined;
    if (
      node.type === "ImportDeclaration" || node.type === "ExportAllDeclaration" ||
      node.type === "ExportNamedDeclaration" || node.type === "ImportExpression"
    ) {
      source = literalText((node as Node & { source?: Node | null }).source);
    }
    if (source === undefined) return;
    if (source.startsWith("npm:")) npm.add(source);
    else if (/^(\.{0,2}\/|file:)/.test(source)) files.add(source);
  });
  return { npm: [...npm], files: [...files] };
}

/**
 * The imports a snapshot body will make when restored: its import bindings, and the literal
 * `npm:` specifiers in the source of its functions. Reads only the head of the body (imports
 * and declarations come before the data, see `worker/snapshot.ts`), never the data.
 *
 * @param body A snapshot body as a kernel wrote it; anything else yields no imports.
 */
export function snapshotImports(body: Uint8Array): ModuleImports {
  let json: Uint8Array;
  try {
    json = bodyParts(body).json;
  } catch {
    return NO_IMPORTS;
  }
  // Inside a JSON string every quote is escaped, so this text can only be the key itself.
  const end = indexOfBytes(json, KINDS_KEY);
  if (end < 0) return NO_IMPORTS;
  let head: { imports?: { specifier?: unknown }[]; declarations?: { source?: unknown }[] };
  try {
    head = JSON.parse(`${new TextDecoder().decode(json.subarray(0, end))}}`);
  } catch {
    return NO_IMPORTS;
  }
  const npm = new Set<string>();
  const files = new Set<string>();
  for (const { specifier } of head.imports ?? []) {
    if (typeof specifier !== "string") continue;
    if (specifier.startsWith("npm:")) npm.add(specifier);
    else if (/^(\.{0,2}\/|file:)/.test(specifier)) files.add(specifier);
  }
  for (const { source } of head.declarations ?? []) {
    if (typeof source !== "string") continue;
    for (const match of source.matchAll(/["'`](npm:[^"'`\\\s]+)["'`]/g)) npm.add(match[1]!);
  }
  return { npm: [...npm], files: [...files] };
}

/** The key that follows a body's imports and declarations, in UTF-8. */
const KINDS_KEY = new TextEncoder().encode(',"kinds":');

/** Where `needle` first occurs in `haystack`, or -1. */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  for (let i = haystack.indexOf(needle[0]!); i >= 0; i = haystack.indexOf(needle[0]!, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/**
 * The package an `npm:` specifier names: `npm:@scope/pkg@1.2/sub` → `@scope/pkg`.
 *
 * @returns `undefined` for a specifier that names no package (`npm:`, `npm:@scope`).
 */
export function npmPackageName(specifier: string): string | undefined {
  const rest = specifier.replace(/^npm:\/?/, "");
  const match = /^(@[^/@\s]+\/[^/@\s]+|[^/@\s]+)/.exec(rest);
  return match?.[1];
}

/**
 * Why a host refuses to fetch or import an `npm:` specifier, or `undefined` when it may.
 *
 * @param allow The packages the operator allows (`--npm-allow`); `undefined`: every package.
 */
export function npmRefusal(
  specifier: string,
  allow: readonly string[] | undefined,
): string | undefined {
  const name = npmPackageName(specifier);
  if (name === undefined) return `Cannot import "${specifier}": it names no npm package`;
  if (allow === undefined || allow.includes(name)) return undefined;
  const listed = allow.length > 0 ? allow.join(", ") : "none";
  return `Cannot import "${specifier}": the package ${name} is not among those this host ` +
    `allows kernels to import (--npm-allow: ${listed}); the operator may add it`;
}

/** The text of a string literal or of a template literal without substitutions. */
function literalText(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === "Literal") {
    const value = (node as Node & { value?: unknown }).value;
    return typeof value === "string" ? value : undefined;
  }
  if (node.type === "TemplateLiteral") {
    const t = node as Node & { expressions: Node[]; quasis: { value: { cooked?: string } }[] };
    return t.expressions.length === 0 ? t.quasis[0]?.value.cooked ?? undefined : undefined;
  }
  return undefined;
}
