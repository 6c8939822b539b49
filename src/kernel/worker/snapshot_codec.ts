/**
 * A fast encoder and decoder for superjson's format (`{json, meta: {values,
 * referentialEqualities, v: 1}}`), so a snapshot stays readable by `superjson.deserialize`
 * (with the custom types `ArrayBuffer`, `Function` and `NamedArray` registered) while JSON-safe
 * data costs little more than `JSON.stringify`: the walk copies only what needs an annotation and
 * hands the rest to `JSON.stringify` as it is.
 *
 * Carried: JSON values, undefined, BigInt, NaN/±Infinity/-0, Date, RegExp, Map, Set, Error, URL,
 * typed arrays, ArrayBuffers, shared and cyclic references, instances of classes the caller can
 * name (prototype re-linked on decode) and nested functions (by source). Anything else is left out
 * and reported with its path and the reason, and so is what would be lost unseen: an instance's
 * Symbol-keyed or non-enumerable state, an unnamed class. An array with named properties (d3's
 * `columns`) is carried with them as the custom type `NamedArray`.
 *
 * @module
 */
import type { SkippedItem } from "../protocol.ts";
import { functionExpression, isNativeFunction, userSource } from "./function_source.ts";

/** superjson's annotation tree: `[type]` or `[type, children by relative path]`. */
type TypeName = string | [string, string];
type Tree = [TypeName] | [TypeName, Record<string, Tree>];

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
}

/** A function or an instance the encoding carries, at its display path (`obj.f`, `list[0]`). */
export interface EncodedItem {
  path: string;
  value: unknown;
}

/** How many functions and instances are beyond {@linkcode encode}'s lists; the first's path. */
export interface Unlisted {
  count: number;
  first?: string;
}

/** Functions, and instances, that {@linkcode encode} lists by path at most. */
export const LISTED = 1_000;

const NO_CLASSES: ClassTable = { nameOf: () => undefined, byName: () => undefined };

interface Scope {
  prefix: string;
  values: Record<string, Tree>;
}

/**
 * Encodes a record of values (variable name → value).
 *
 * Paths are built only where the format needs them (an annotation, a shared reference): each
 * object walked gets a node number, and its path is the chain of (parent node, key) pairs. A
 * path string for every value would cost more memory than the data in a large namespace, and a
 * save must fit beside the data.
 *
 * @param classes Names session classes so their instances keep their prototype.
 */
export function encode(
  root: Record<string, unknown>,
  classes: ClassTable = NO_CLASSES,
): {
  encoded: Encoded;
  skipped: SkippedItem[];
  /** Functions carried by their source, the first LISTED of them. */
  functions: EncodedItem[];
  /** Instances of classes, carried by their own enumerable properties, the first LISTED. */
  instances: EncodedItem[];
  unlisted: Unlisted;
} {
  const seen = new Map<object, number>();
  const functions: EncodedItem[] = [];
  const instances: EncodedItem[] = [];
  const unlisted: Unlisted = { count: 0 };
  // Only listed items get a path string: one for every value would cost too much (see above).
  const list = (items: EncodedItem[], at: number, value: unknown) => {
    if (items.length < LISTED) items.push({ path: displayPath(pathOf(at)), value });
    else if (unlisted.count++ === 0) unlisted.first = displayPath(pathOf(at));
  };
  let arrayBudget = 1_000_000;
  // Node 0 is the root; node n's parent and key are parents[n] and keys[n].
  const parents: number[] = [-1];
  const keys: (string | number)[] = [""];
  const equalities: Record<string, string[]> = {};
  const skipped: SkippedItem[] = [];
  const rootScope: Scope = { prefix: "", values: {} };
  let annotated = false;

  function node(parent: number, key: string | number): number {
    keys.push(key);
    return parents.push(parent) - 1;
  }

  function pathOf(n: number): string {
    const segments: string[] = [];
    for (let at = n; at > 0; at = parents[at]!) {
      const key = keys[at]!;
      segments.push(typeof key === "number" ? String(key) : escapeKey(key));
    }
    return segments.reverse().join(".");
  }

  function annotate(scope: Scope, at: number, tree: Tree): void {
    annotated = true;
    scope.values[relative(scope, pathOf(at))] = tree;
  }

  function skip(scope: Scope, at: number, reason: string): null {
    skipped.push({ path: displayPath(pathOf(at)), reason });
    annotate(scope, at, ["undefined"]);
    return null;
  }

  function walk(v: unknown, parent: number, key: string | number, scope: Scope): unknown {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        if (Number.isFinite(v) && !Object.is(v, -0)) return v;
        annotate(scope, node(parent, key), ["number"]);
        return Object.is(v, -0) ? "-0" : String(v);
      case "undefined":
        annotate(scope, node(parent, key), ["undefined"]);
        return null;
      case "bigint":
        annotate(scope, node(parent, key), ["bigint"]);
        return v.toString();
      case "symbol":
        return skip(scope, node(parent, key), "a Symbol cannot be saved");
      case "function": {
        const at = node(parent, key);
        const source = userSource(v);
        if (!source) return skip(scope, at, "a built-in or bound function cannot be saved");
        if (remember(v, at)) return null;
        list(functions, at, v);
        annotate(scope, at, [["custom", "Function"]]);
        return source;
      }
    }
    if (v === null) return null;
    const o = v as object;
    const at = node(parent, key);
    if (remember(o, at)) return null;
    if (Array.isArray(o)) {
      // Listing an array's keys costs about 90 ns per element: a variable's own arrays are
      // always looked at, nested ones up to a budget, so a save stays near JSON.stringify's cost.
      if ((parent === 0 || arrayBudget > 0) && hasNamedKeys(o, parent !== 0)) {
        // Written as an object of its indices, named keys and length, so that paths into it
        // (`rows.3`, `rows.columns`) are the same before and after it is an array again.
        const inner: Scope = { prefix: pathOf(at), values: {} };
        const json = walkObject(o, at, inner, true) as Record<string, unknown>;
        json.length = o.length;
        annotate(scope, at, withChildren(["custom", "NamedArray"], inner));
        return json;
      }
      return walkArray(o, at, scope);
    }
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) return walkObject(o, at, scope);
    if (o instanceof Date) {
      annotate(scope, at, ["Date"]);
      return Number.isNaN(o.getTime()) ? "Invalid Date" : o.toISOString();
    }
    if (o instanceof RegExp) {
      annotate(scope, at, ["regexp"]);
      return String(o);
    }
    if (o instanceof Map) {
      const inner: Scope = { prefix: pathOf(at), values: {} };
      let i = 0;
      const entries: unknown[] = [];
      for (const [k, val] of o) {
        const entry = node(at, i++);
        entries.push([walk(k, entry, 0, inner), walk(val, entry, 1, inner)]);
      }
      annotate(scope, at, withChildren("map", inner));
      return entries;
    }
    if (o instanceof Set) {
      const inner: Scope = { prefix: pathOf(at), values: {} };
      let i = 0;
      const items: unknown[] = [];
      for (const item of o) items.push(walk(item, at, i++, inner));
      annotate(scope, at, withChildren("set", inner));
      return items;
    }
    if (o instanceof Error) {
      annotate(scope, at, ["Error"]);
      return { name: o.name, message: o.message, ...(o.stack && { stack: o.stack }) };
    }
    if (o instanceof URL) {
      annotate(scope, at, ["URL"]);
      return o.href;
    }
    if (o instanceof ArrayBuffer) {
      annotate(scope, at, [["custom", "ArrayBuffer"]]);
      return toBase64(new Uint8Array(o));
    }
    if (ArrayBuffer.isView(o) && !(o instanceof DataView)) {
      annotate(scope, at, [["typed-array", o.constructor.name]]);
      return Array.from(
        o as unknown as ArrayLike<number | bigint>,
        (n) => typeof n === "bigint" ? n.toString() : n,
      );
    }
    const ctor = proto?.constructor;
    const kind = typeof ctor === "function" && ctor.name ? ctor.name : "object";
    if (ctor === Object) {
      return skip(scope, at, "an object whose prototype is another plain object cannot be saved");
    }
    if (isNativeFunction(ctor)) return skip(scope, at, `a ${kind} cannot be saved`);
    const hidden = hiddenState(o);
    if (hidden) return skip(scope, at, `an instance of ${kind} keeps state ${hidden}`);
    list(instances, at, o);
    const className = classes.nameOf(ctor);
    if (className) {
      const inner: Scope = { prefix: pathOf(at), values: {} };
      const json = walkObject(o, at, inner, true);
      annotate(scope, at, withChildren(["class", className], inner));
      return json;
    }
    skipped.push({
      path: displayPath(pathOf(at)),
      reason: `saved as a plain object, without its methods: its class ${kind} is neither a ` +
        `session class nor exported by an imported module`,
    });
    return walkObject(o, at, scope, true);
  }

  function walkArray(a: unknown[], at: number, scope: Scope): unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < a.length; i++) {
      const item = a[i];
      const w = typeof item === "number" && Number.isFinite(item) && !Object.is(item, -0)
        ? item
        : walk(item, at, i, scope);
      if (out) out[i] = w;
      else if (w !== item) {
        out = a.slice(0, i);
        out[i] = w;
      }
    }
    return out ?? a;
  }

  function walkObject(o: object, at: number, scope: Scope, copy = false): object {
    const record = o as Record<string, unknown>;
    const names = Object.keys(record);
    // An own toJSON would make JSON.stringify print something else than the data.
    let out: Record<string, unknown> | undefined = copy || "toJSON" in record ? {} : undefined;
    for (let i = 0; i < names.length; i++) {
      const key = names[i]!;
      const item = record[key];
      const w = walk(item, at, key, scope);
      if (out) out[key] = w;
      else if (w !== item) {
        out = {};
        for (let j = 0; j < i; j++) out[names[j]!] = record[names[j]!];
        out[key] = w;
      }
    }
    return out ?? o;
  }

  /** Whether an array has own keys that are not indices (d3's `columns`, a match's `index`). */
  function hasNamedKeys(a: unknown[], counted: boolean): boolean {
    if (counted) arrayBudget -= a.length + 8;
    const keys = Object.keys(a);
    return keys.length > 0 && keys[keys.length - 1] !== String(a.length - 1);
  }

  /** Records an object's node; for a later sighting, notes the equality with the first path. */
  function remember(o: object, at: number): boolean {
    const first = seen.get(o);
    if (first === undefined) {
      seen.set(o, at);
      return false;
    }
    (equalities[pathOf(first)] ??= []).push(pathOf(at));
    return true;
  }

  const json = walkObject(root, 0, rootScope, true);
  const encoded: Encoded = { json };
  const hasEqualities = Object.keys(equalities).length > 0;
  if (annotated || hasEqualities) {
    encoded.meta = { v: 1 };
    if (annotated) encoded.meta.values = rootScope.values;
    if (hasEqualities) encoded.meta.referentialEqualities = equalities;
  }
  return { encoded, skipped, functions, instances, unlisted };
}

/**
 * Where an instance keeps state that `Object.keys` does not show (Symbol-keyed or
 * non-enumerable own properties), in words; `undefined` when it keeps none.
 */
function hiddenState(o: object): string | undefined {
  const symbols = Object.getOwnPropertySymbols(o).length;
  if (symbols > 0) {
    return `under ${symbols} Symbol key${symbols === 1 ? "" : "s"}, which cannot be saved`;
  }
  const names = Object.getOwnPropertyNames(o);
  if (names.length === Object.keys(o).length) return undefined;
  const hidden = names.filter((n) => !Object.prototype.propertyIsEnumerable.call(o, n));
  return `in non-enumerable properties (${hidden.slice(0, 5).join(", ")}), which cannot be saved`;
}

/**
 * Decodes {@linkcode encode}'s output (or superjson's, for the types listed in the module doc).
 *
 * @throws {TypeError} On an annotation it does not know, so a damaged snapshot is noticed.
 */
export function decode(encoded: Encoded, classes: ClassTable = NO_CLASSES): unknown {
  let json = encoded.json;
  const values = encoded.meta?.values;
  if (Array.isArray(values)) json = untransform(json, values, classes);
  else if (values) json = applyAll(json, values, classes);
  for (const [first, others] of Object.entries(encoded.meta?.referentialEqualities ?? {})) {
    const target = getDeep(json, parsePath(first));
    for (const other of others) json = setDeep(json, parsePath(other), target);
  }
  return json;
}

/**
 * Decodes a record of variables (as {@linkcode encode} made it) one variable at a time: a
 * variable whose part fails to decode is left out and reported with the reason, the others come
 * back. A shared reference into a variable left out is dropped from the variable that held it.
 *
 * @throws {TypeError} When the record itself is damaged (not an object).
 */
export function decodeRecord(
  encoded: Encoded,
  classes: ClassTable = NO_CLASSES,
): { values: Record<string, unknown>; skipped: SkippedItem[] } {
  const record = encoded.json;
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new TypeError("Cannot decode the snapshot's variables: they are not a record");
  }
  const json = record as Record<string, unknown>;
  const failed = new Map<string, string>();
  const fail = (name: string, error: unknown) => {
    if (!failed.has(name)) failed.set(name, error instanceof Error ? error.message : String(error));
  };
  const values = encoded.meta?.values;
  if (values && !Array.isArray(values)) {
    for (const [path, tree] of Object.entries(values)) {
      const segments = parsePath(path);
      const name = segments[0]!;
      if (failed.has(name)) continue;
      try {
        setDeep(json, segments, untransform(getDeep(json, segments), tree, classes));
      } catch (error) {
        fail(name, error);
      }
    }
  }
  const dropped: SkippedItem[] = [];
  for (const [first, others] of Object.entries(encoded.meta?.referentialEqualities ?? {})) {
    const from = parsePath(first);
    for (const other of others) {
      const to = parsePath(other);
      if (failed.has(to[0]!)) continue;
      if (failed.has(from[0]!)) {
        dropped.push({
          path: displayPath(other),
          reason: `it was the same value as ${displayPath(first)}, which could not be restored`,
        });
        continue;
      }
      try {
        setDeep(json, to, getDeep(json, from));
      } catch (error) {
        fail(to[0]!, error);
      }
    }
  }
  for (const name of failed.keys()) delete json[name];
  const skipped = [...failed].map(([path, reason]) => ({
    path,
    reason: `could not be restored: ${reason}`,
  }));
  return { values: json, skipped: [...skipped, ...dropped] };
}

function applyAll(json: unknown, values: Record<string, Tree>, classes: ClassTable): unknown {
  for (const [path, tree] of Object.entries(values)) {
    const segments = parsePath(path);
    json = setDeep(json, segments, untransform(getDeep(json, segments), tree, classes));
  }
  return json;
}

function untransform(json: unknown, tree: Tree, classes: ClassTable): unknown {
  const [type, children] = tree;
  const inner = children ? applyAll(json, children, classes) : json;
  if (Array.isArray(type)) {
    const [kind, name] = type;
    if (kind === "typed-array") {
      const Ctor = (globalThis as Record<string, unknown>)[name] as
        | (new (items: unknown[]) => unknown)
        | undefined;
      if (typeof Ctor !== "function" || !/Array$/.test(name)) {
        throw new TypeError(`Unknown typed array "${name}" in snapshot`);
      }
      const items = inner as unknown[];
      return new Ctor(/Big/.test(name) ? items.map((n) => BigInt(n as string)) : items);
    }
    if (kind === "class") {
      const Ctor = classes.byName(name);
      if (!Ctor) throw new TypeError(`its class ${name} is not defined after the restore`);
      return Object.assign(Object.create(Ctor.prototype), inner);
    }
    if (kind === "custom" && name === "ArrayBuffer") return fromBase64(inner as string).buffer;
    if (kind === "custom" && name === "NamedArray") {
      const { length, ...items } = inner as Record<string, unknown>;
      return Object.assign(new Array(length as number), items);
    }
    if (kind === "custom" && name === "Function") {
      return (0, eval)(functionExpression(inner as string));
    }
    throw new TypeError(`Unknown annotation ${JSON.stringify(type)} in snapshot`);
  }
  switch (type) {
    case "undefined":
      return undefined;
    case "bigint":
      return BigInt(inner as string);
    case "number":
      return Number(inner);
    case "Date":
      return new Date(inner as string);
    case "regexp": {
      const text = inner as string;
      const slash = text.lastIndexOf("/");
      return new RegExp(text.slice(1, slash), text.slice(slash + 1));
    }
    case "map":
      return new Map(inner as [unknown, unknown][]);
    case "set":
      return new Set(inner as unknown[]);
    case "Error": {
      const e = inner as { name: string; message: string; stack?: string };
      const error = new Error(e.message);
      error.name = e.name;
      if (e.stack) error.stack = e.stack;
      return error;
    }
    case "URL":
      return new URL(inner as string);
  }
  throw new TypeError(`Unknown annotation "${type}" in snapshot`);
}

function getDeep(json: unknown, path: string[]): unknown {
  let at = json;
  for (let i = 0; i < path.length; i++) {
    if (at instanceof Map) {
      const entry = [...at.entries()][Number(path[i])];
      if (!entry) throw new TypeError(`Snapshot path ${path.join(".")} names no Map entry`);
      at = entry[Number(path[++i])];
    } else if (at instanceof Set) {
      at = [...at][Number(path[i])];
    } else {
      at = (at as Record<string, unknown>)[path[i]!];
    }
  }
  return at;
}

function setDeep(json: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (json instanceof Map) {
    const entries = [...json.entries()];
    const entry = entries[Number(head)];
    if (!entry) throw new TypeError(`Snapshot path ${path.join(".")} names no Map entry`);
    const [which, ...deeper] = rest;
    entry[Number(which)] = setDeep(entry[Number(which)], deeper, value);
    json.clear();
    for (const [k, v] of entries) json.set(k, v);
    return json;
  }
  if (json instanceof Set) {
    const items = [...json];
    items[Number(head)] = setDeep(items[Number(head)], rest, value);
    json.clear();
    for (const item of items) json.add(item);
    return json;
  }
  const record = json as Record<string, unknown>;
  record[head] = setDeep(record[head], rest, value);
  return json;
}

function withChildren(type: TypeName, inner: Scope): Tree {
  return Object.keys(inner.values).length > 0 ? [type, inner.values] : [type];
}

function relative(scope: Scope, path: string): string {
  return scope.prefix === "" ? path : path.slice(scope.prefix.length + 1);
}

function escapeKey(key: string): string {
  return key.includes(".") || key.includes("\\")
    ? key.replaceAll("\\", "\\\\").replaceAll(".", "\\.")
    : key;
}

/** Splits a superjson path, honouring `\.` and `\\`. */
function parsePath(path: string): string[] {
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

function displayPath(path: string): string {
  return parsePath(path).map((s, i) => i === 0 ? s : /^\d+$/.test(s) ? `[${s}]` : `.${s}`)
    .join("");
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
