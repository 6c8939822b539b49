/**
 * The snapshot format shared by the encoder (`snapshot_codec.ts`) and the decoder
 * (`snapshot_decode.ts`): superjson's `{json, meta: {values, referentialEqualities, v: 1}}`, its
 * annotation trees and its paths (`a.b\\.c`, `\\` escaping a dot).
 *
 * @module
 */

/** superjson's annotation tree: `[type]` or `[type, children by relative path]`. */
export type TypeName = string | [string, string];
export type Tree = [TypeName] | [TypeName, Record<string, Tree>];

/**
 * The type of `[EACH, annotations]`, our one beside superjson's: an array every element of which
 * carries `annotations`, keyed by their paths from the array with `*` for the element's index
 * (`*.day`; `*` alone is the element). A body holding one says so by its format (`snapshot.ts`).
 */
export const EACH = "each";

/** The encoded form, superjson's own. */
export interface Encoded {
  json: unknown;
  meta?: {
    values?: Record<string, Tree> | Tree;
    referentialEqualities?: Record<string, string[]>;
    v: 1;
  };
}

/**
 * What the codec needs to know of classes: the session's own, and those of imported modules
 * (`class_map.ts`), each under a name the snapshot keeps.
 */
export interface ClassTable {
  /** The name of `ctor`, if it can be found again after a restore. */
  nameOf(ctor: unknown): string | undefined;
  /** The class by that name; `undefined` (or a throw) when it is gone. */
  byName(name: string): (new (...args: never[]) => unknown) | undefined;
  /**
   * Evaluates the source of a function or class held in a value, within a time bound (a class's
   * static blocks run); throws when it does not end. Without it, decoding evaluates it as it is.
   */
  evaluate?(expression: string): unknown;
  /**
   * The name of an imported module's function or namespace object that `value` is, so it is
   * carried by reference (see `class_map.ts`); `undefined` for any other value.
   */
  exportOf?(value: unknown): string | undefined;
  /** The module's value by that name; throws when the module no longer has it. */
  exported?(name: string): unknown;
}

/** A table that knows no class. */
export const NO_CLASSES: ClassTable = { nameOf: () => undefined, byName: () => undefined };

/** Escapes a key for a superjson path. */
export function escapeKey(key: string): string {
  return key.includes(".") || key.includes("\\")
    ? key.replaceAll("\\", "\\\\").replaceAll(".", "\\.")
    : key;
}

/** Splits a superjson path, honouring `\.` and `\\`. */
export function parsePath(path: string): string[] {
  if (!path.includes("\\")) return path.split(".");
  const out: string[] = [];
  let segment = "";
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === "\\" && (path[i + 1] === "." || path[i + 1] === "\\")) segment += path[++i];
    else if (c === ".") {
      out.push(segment);
      segment = "";
    } else segment += c;
  }
  out.push(segment);
  return out;
}

/** A path as JavaScript writes it: `rows[0].name`. */
export function displayPath(path: string): string {
  return parsePath(path).map((s, i) => i === 0 ? s : /^\d+$/.test(s) ? `[${s}]` : `.${s}`)
    .join("");
}

/** The built-in error classes by name, which a restore makes again by that name. */
export const ERROR_CLASSES: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};
