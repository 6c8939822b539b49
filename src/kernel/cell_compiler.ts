/**
 * Turns a cell's TypeScript into JavaScript the kernel's REPL can run.
 *
 * Types are stripped in the host, once for all kernels, so no kernel pays the 20–25 MB a type
 * stripper costs per process (DESIGN.md section 8). Strip-only mode blanks types in place, so line
 * and column numbers stay those of the cell; enums, namespaces and parameter properties need
 * transform mode, which may shift lines. Then each `import` declaration becomes a `const`
 * binding, which persists across cells as a REPL binding must, and each `import()` goes through
 * the kernel's module loader (scratch folder only, reload on change).
 *
 * @module
 */
import { parse } from "acorn";
import type { ImportDeclaration, Node, Program } from "acorn";
import { transformSync } from "amaro";
import { walk } from "./ast_walk.ts";
import { awaitChecks } from "./await_checks.ts";
import { loopCheck } from "./loop_checks.ts";
import { type ModuleImports, moduleImports, NO_IMPORTS } from "./npm_imports.ts";
import { PROTECTED_GLOBALS, protectedMessage } from "./protected_globals.ts";
import type { ErrorInfo } from "./protocol.ts";
import {
  CELL_KEY,
  type DeclarationKind,
  globalAccess,
  LOADER_KEY,
} from "./worker/compiled_cell.ts";

/** The loader expression compiled cells call; `kernel_worker.ts` installs it in the Worker. */
const LOADER = globalAccess(LOADER_KEY);

/**
 * The line put before every compiled cell. It hands the kernel a closure whose source location
 * names the cell's script, so stack frames can be labelled `cell-N` (the inspector ignores
 * `//# sourceURL` in evaluated code), and the kind of each top-level declaration, so a restore
 * declares each binding the way the cell did. `repl.ts` subtracts this one line from frames.
 */
function cellPrefix(kinds: Record<string, DeclarationKind>): string {
  return `${globalAccess(CELL_KEY)}(()=>{},${JSON.stringify(kinds)});\n`;
}

/** A compiled cell, or the syntax error that prevents compiling it. */
export type CompiledCell =
  /**
   * `declared`: the top-level names the cell declares, for the record of what it changed.
   * `imports`: its literal `npm:` and file specifiers, which the host fetches or reads first.
   */
  | {
    ok: true;
    code: string;
    declared: string[];
    imports: ModuleImports;
    /** The cell as written, when it had types: functions are shown in it. */
    typescript?: string;
  }
  | { ok: false; error: ErrorInfo };

/** Compiled cells kept by their source, at most this many, the least recently used dropped. */
const KEPT_CELLS = 256;
/** Sources longer than this are compiled every time: their run dwarfs their compile. */
const KEPT_SOURCE_CHARS = 2048;
const kept = new Map<string, Extract<CompiledCell, { ok: true }>>();

/**
 * Compiles one cell. A short cell compiled before (run again as it was: a re-run, a poll of
 * some state) is not parsed again: parsing it anew, with the CPU's caches cold after the round
 * trip, cost a trivial cell 50–100 µs of its 0.6 ms (measured interleaved on the host API).
 *
 * @param source The cell as the user wrote it: TypeScript or JavaScript.
 * @param name Name used in syntax error messages, e.g. `cell-3`.
 */
export function compileCell(source: string, name = "cell"): CompiledCell {
  const hit = kept.get(source);
  if (hit) {
    kept.delete(source);
    kept.set(source, hit);
    return { ...hit, declared: [...hit.declared] };
  }
  const compiled = compile(source, name);
  // Only what depends on the source alone: the name is in syntax errors only, and cells that
  // import have their imports fetched (far dearer than a parse) and are compiled each time.
  if (compiled.ok && compiled.imports === NO_IMPORTS && source.length <= KEPT_SOURCE_CHARS) {
    kept.set(source, { ...compiled, declared: [...compiled.declared] });
    if (kept.size > KEPT_CELLS) kept.delete(kept.keys().next().value!);
  }
  return compiled;
}

function compile(source: string, name: string): CompiledCell {
  // A hashbang is valid only at the very start of a module, never in a REPL cell.
  const body = source.startsWith("#!") ? source.replace(/^#![^\n]*/, "") : source;
  // Plain JavaScript needs no stripping, and most cells are plain JavaScript: the stripper
  // costs more than the parse that tells (see `isPlainJavaScript`).
  let program = isPlainJavaScript(body) ? parseScript(body) : undefined;
  let code = body;
  if (!program) {
    try {
      code = stripTypes(body);
    } catch (error) {
      return { ok: false, error: syntaxError(error, name) };
    }
    program = parseScript(code);
  }
  if (!program) {
    // Leave the code as it is: V8 reports the syntax error in its own words.
    return { ok: true, code: cellPrefix({}) + code, declared: [], imports: NO_IMPORTS };
  }
  const kinds = declarationKinds(program);
  const hidden = Object.keys(kinds).find((n) => PROTECTED_GLOBALS.has(n));
  if (hidden !== undefined) {
    const message = protectedMessage(hidden, kinds[hidden]!);
    return {
      ok: false,
      error: { name: "ProtectedGlobalError", message, stack: `ProtectedGlobalError: ${message}` },
    };
  }
  return {
    ok: true,
    code: cellPrefix(kinds) + rewriteModuleSyntax(code, program),
    declared: Object.keys(kinds),
    // Most cells import nothing: no second walk for them.
    imports: /\b(import|export)\b/.test(code) ? moduleImports(program) : NO_IMPORTS,
    ...(body !== code && { typescript: body }),
  };
}

/** The cell as a script, or `undefined` when it is not valid JavaScript. */
function parseScript(code: string): Program | undefined {
  try {
    return parse(code, {
      ecmaVersion: "latest",
      sourceType: "script",
      allowAwaitOutsideFunction: true,
      allowImportExportEverywhere: true,
      allowReturnOutsideFunction: false,
      allowHashBang: true,
    });
  } catch {
    return undefined;
  }
}

/**
 * Whether a cell that parses as JavaScript means the same as TypeScript, so it can skip the
 * stripper. TypeScript syntax is a JavaScript syntax error, with one exception that matters:
 * type arguments, which JavaScript reads as comparisons (`f<T>(x)` is `(f < T) > x`). A cell
 * with a `<` and a `>` (other than `=>`, `>=`) is therefore stripped as before; so is one
 * that does not parse, and the stripper then reports its error.
 */
function isPlainJavaScript(code: string): boolean {
  return !code.includes("<") || !code.replace(/=>|>=/g, "").includes(">");
}

/** The kind of each binding a cell declares at top level. */
function declarationKinds(program: Program): Record<string, DeclarationKind> {
  const kinds: Record<string, DeclarationKind> = {};
  for (const statement of program.body) {
    const node = statement.type === "ExportNamedDeclaration" && statement.declaration
      ? statement.declaration
      : statement;
    if (node.type === "VariableDeclaration") {
      for (const d of node.declarations) {
        for (const name of patternNames(d.id)) kinds[name] = node.kind as DeclarationKind;
      }
    } else if (node.type === "FunctionDeclaration" && node.id) {
      kinds[node.id.name] = "function";
    } else if (node.type === "ClassDeclaration" && node.id) {
      kinds[node.id.name] = "class";
    } else if (node.type === "ImportDeclaration") {
      for (const s of node.specifiers) kinds[s.local.name] = "const";
    }
  }
  return kinds;
}

function patternNames(pattern: Node): string[] {
  switch (pattern.type) {
    case "Identifier":
      return [(pattern as Node & { name: string }).name];
    case "ObjectPattern":
      return (pattern as Node & { properties: Node[] }).properties.flatMap((p) =>
        patternNames(p.type === "Property" ? (p as Node & { value: Node }).value : p)
      );
    case "ArrayPattern":
      return (pattern as Node & { elements: (Node | null)[] }).elements.flatMap((e) =>
        e ? patternNames(e) : []
      );
    case "RestElement":
      return patternNames((pattern as Node & { argument: Node }).argument);
    case "AssignmentPattern":
      return patternNames((pattern as Node & { left: Node }).left);
  }
  return [];
}

/** What amaro throws: a plain object, not an Error. */
interface StripError {
  code?: string;
  message?: string;
  snippet?: string;
  startLine?: number;
  startColumn?: number;
}

function stripTypes(body: string): string {
  try {
    return transformSync(body, { mode: "strip-only" }).code;
  } catch (error) {
    if ((error as StripError)?.code !== "UnsupportedSyntax") throw error;
    return transformSync(body, { mode: "transform" }).code;
  }
}

function syntaxError(error: unknown, name: string): ErrorInfo {
  const e = error as StripError;
  const message = (error instanceof Error ? error.message : e?.message ?? String(error)).trim();
  const where = e?.startLine ? `${name}:${e.startLine}:${(e.startColumn ?? 0) + 1}` : name;
  const snippet = e?.snippet ? `\n${e.snippet.trimEnd()}` : "";
  return {
    name: "SyntaxError",
    message,
    stack: `SyntaxError: ${message}\n    at ${where}${snippet}`,
  };
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Replaces import declarations, `import()` calls and `export` keywords, and puts the interrupt
 * check in every loop and after every top-level `await`, keeping line numbers.
 */
function rewriteModuleSyntax(code: string, program: Program): string {
  const edits: Edit[] = [];
  for (const node of program.body) {
    if (node.type === "ImportDeclaration") {
      edits.push({ start: node.start, end: node.end, text: importBinding(node, code) });
    } else if (node.type === "ExportNamedDeclaration" && node.declaration) {
      // Pasted module code: `export const x = 1` defines `x` as a REPL binding.
      edits.push({ start: node.start, end: node.declaration.start, text: "" });
    }
  }
  // Before the loops' checks: at one offset, the one pushed later comes first in the text, and a
  // loop's check must open a body that begins with an await.
  if (/\bawait\b/.test(code)) {
    for (const { at, text } of awaitChecks(program)) edits.push({ start: at, end: at, text });
  }
  walk(program, (node) => {
    for (const { at, text } of loopCheck(node)) edits.push({ start: at, end: at, text });
    if (node.type === "ImportExpression") {
      edits.push({
        start: node.start,
        end: node.start + "import".length,
        text: `${LOADER}.import`,
      });
    }
  });
  // From the end, so earlier offsets hold; at one offset, a replacement before an insertion.
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = code;
  for (const edit of edits) {
    const replaced = code.slice(edit.start, edit.end);
    const newlines = "\n".repeat(replaced.split("\n").length - 1);
    out = out.slice(0, edit.start) + edit.text + newlines + out.slice(edit.end);
  }
  return out;
}

/** `import d, { a, b as c } from "m"` → `const { default: d, a, b: c } = await …bind("m", …)`. */
function importBinding(node: ImportDeclaration, code: string): string {
  const source = JSON.stringify(node.source.value);
  const options = node.attributes.length > 0
    ? `, { with: { ${
      node.attributes.map((a) => `${code.slice(a.key.start, a.key.end)}: ${a.value.raw}`).join(
        ", ",
      )
    } } }`
    : "";
  const bindings: [string, string][] = [];
  const fields: string[] = [];
  let namespace: string | undefined;
  for (const s of node.specifiers) {
    if (s.type === "ImportNamespaceSpecifier") {
      namespace = s.local.name;
      bindings.unshift([namespace, "*"]);
      continue;
    }
    const imported = s.type === "ImportDefaultSpecifier"
      ? "default"
      : s.imported.type === "Identifier"
      ? s.imported.name
      : String(s.imported.value);
    bindings.push([s.local.name, imported]);
    const key = /^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u.test(imported)
      ? imported
      : JSON.stringify(imported);
    fields.push(key === s.local.name ? key : `${key}: ${s.local.name}`);
  }
  if (bindings.length === 0) return `await ${LOADER}.import(${source}${options});`;
  const bound = `await ${LOADER}.bind(${source}, ${JSON.stringify(bindings)}${options})`;
  if (!namespace) return `const { ${fields.join(", ")} } = ${bound};`;
  const rest = fields.length > 0 ? ` const { ${fields.join(", ")} } = ${namespace};` : "";
  return `const ${namespace} = ${bound};${rest}`;
}
