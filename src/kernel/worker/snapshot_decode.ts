/**
 * Decoding a snapshot written by `snapshot_codec.ts` (or by superjson, for the types that module
 * lists): the whole tree at once, or a record of variables one variable at a time.
 *
 * @module
 */
import type { SkippedItem } from "../protocol.ts";
import { functionExpression } from "./function_source.ts";
import {
  type ClassTable,
  displayPath,
  type Encoded,
  NO_CLASSES,
  parsePath,
  type Tree,
} from "./snapshot_format.ts";

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
    // Snapshots written before typed arrays were carried as bytes hold them as numbers.
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
      // Defined, not assigned: assigning would run the class's setters, user code with no
      // time bound (a setter that loops would take the kernel at every restore). The parsed
      // record already holds them so: it only needs the class's prototype (ten times faster
      // than a new object and a definition per property, measured on 1,000 instances).
      if (isParsedRecord(inner)) return Object.setPrototypeOf(inner, Ctor.prototype);
      const instance = Object.create(Ctor.prototype);
      for (const [key, value] of Object.entries(inner as object)) {
        Object.defineProperty(instance, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
      return instance;
    }
    if (kind === "export") {
      if (!classes.exported) throw new TypeError(`no module value ${name} is known here`);
      return classes.exported(name);
    }
    if (kind === "custom" && name === "ArrayBuffer") return fromBase64(inner as string).buffer;
    if (kind === "custom" && name === "TypedArray") {
      const { type: view, base64 } = inner as { type: string; base64: string };
      const Ctor = (globalThis as Record<string, unknown>)[view] as
        | (new (buffer: ArrayBuffer) => unknown)
        | undefined;
      if (typeof Ctor !== "function" || !/Array$/.test(view)) {
        throw new TypeError(`Unknown typed array "${view}" in snapshot`);
      }
      return new Ctor(fromBase64(base64).buffer as ArrayBuffer);
    }
    if (kind === "custom" && name === "NumberArray") {
      const bytes = fromBase64(inner as string);
      if (bytes.length % 8 !== 0) throw new TypeError("A NumberArray's bytes are not Float64s");
      const numbers = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
      // A loop, not Array.from: eight times faster on a million numbers.
      const out = new Array<number>(numbers.length);
      for (let i = 0; i < numbers.length; i++) out[i] = numbers[i]!;
      return out;
    }
    if (kind === "custom" && name === "NamedArray") {
      const { length, ...items } = inner as Record<string, unknown>;
      return Object.assign(new Array(length as number), items);
    }
    if (kind === "custom" && name === "Function") {
      const expression = functionExpression(inner as string);
      return classes.evaluate ? classes.evaluate(expression) : (0, eval)(expression);
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

/** A plain object as `JSON.parse` makes them: its own properties are writable data. */
function isParsedRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype) {
    return false;
  }
  return Object.isExtensible(v);
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
  // Plain objects and arrays all the way, as nearly always: set in place, no copies of the path.
  let at = json as Record<string, unknown>;
  const last = path.length - 1;
  for (let i = 0; i <= last; i++) {
    if (at instanceof Map || at instanceof Set) return setDeepThrough(json, path, value);
    if (i === last) break;
    at = at[path[i]!] as Record<string, unknown>;
  }
  at[path[last]!] = value;
  return json;
}

/** {@linkcode setDeep} through Maps and Sets, which are rebuilt in their order. */
function setDeepThrough(json: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (json instanceof Map) {
    const entries = [...json.entries()];
    const entry = entries[Number(head)];
    if (!entry) throw new TypeError(`Snapshot path ${path.join(".")} names no Map entry`);
    const [which, ...deeper] = rest;
    entry[Number(which)] = setDeepThrough(entry[Number(which)], deeper, value);
    json.clear();
    for (const [k, v] of entries) json.set(k, v);
    return json;
  }
  if (json instanceof Set) {
    const items = [...json];
    items[Number(head)] = setDeepThrough(items[Number(head)], rest, value);
    json.clear();
    for (const item of items) json.add(item);
    return json;
  }
  const record = json as Record<string, unknown>;
  record[head] = setDeepThrough(record[head], rest, value);
  return json;
}

function fromBase64(text: string): Uint8Array {
  const native = (Uint8Array as { fromBase64?: (text: string) => Uint8Array }).fromBase64;
  if (typeof native === "function") return native(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
