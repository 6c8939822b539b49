/**
 * Decoding a snapshot written by `snapshot_codec.ts` (or by superjson, for the types that module
 * lists): the whole tree at once, or a record of variables one variable at a time.
 *
 * @module
 */
import type { SkippedItem } from "../protocol.ts";
import { type BuiltinRecipe, makeBuiltin } from "./builtin_values.ts";
import { DecodedTree } from "./decoded_tree.ts";
import { internInPlace, regroup, REGROUP_KEY } from "./library_values.ts";
import { functionExpression } from "./function_source.ts";
import {
  type ClassTable,
  displayPath,
  EACH,
  type Encoded,
  ERROR_CLASSES,
  NO_CLASSES,
  parsePath,
  type Tree,
} from "./snapshot_format.ts";

/**
 * Decodes {@linkcode encode}'s output (or superjson's, for the types listed in the module doc).
 *
 * @throws {TypeError} On an annotation it does not know, so a damaged snapshot is noticed.
 */
export function decode(
  encoded: Encoded,
  classes: ClassTable = NO_CLASSES,
  segments: readonly Uint8Array[] = [],
): unknown {
  const tree = new DecodedTree(segments);
  let json = encoded.json;
  const values = encoded.meta?.values;
  if (Array.isArray(values)) json = untransform(json, values, classes, tree);
  else if (values) json = applyAll(json, values, classes, tree);
  for (const [first, others] of Object.entries(encoded.meta?.referentialEqualities ?? {})) {
    const target = tree.get(json, parsePath(first));
    for (const other of others) json = tree.set(json, parsePath(other), target);
  }
  const failures = tree.finish();
  if (failures.length > 0) throw failures[0]!.error;
  return json;
}

/**
 * Decodes a record of variables (as {@linkcode encode} made it) one variable at a time: a
 * variable whose part fails to decode is left out and reported with the reason, the others come
 * back. A shared reference into a variable left out is dropped from the variable that held it.
 *
 * @param segments The body's byte segments, which the record names by index.
 * @throws {TypeError} When the record itself is damaged (not an object).
 */
export function decodeRecord(
  encoded: Encoded,
  classes: ClassTable = NO_CLASSES,
  segments: readonly Uint8Array[] = [],
): { values: Record<string, unknown>; skipped: SkippedItem[] } {
  const record = encoded.json;
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new TypeError("Cannot decode the snapshot's variables: they are not a record");
  }
  const json = record as Record<string, unknown>;
  const tree = new DecodedTree(segments);
  const failed = new Map<string, string>();
  const fail = (name: string, error: unknown) => {
    if (!failed.has(name)) failed.set(name, error instanceof Error ? error.message : String(error));
  };
  const values = encoded.meta?.values;
  if (values && !Array.isArray(values)) {
    for (const path of Object.keys(values)) {
      const annotation = values[path]!;
      const segments = parsePath(path);
      const name = segments[0]!;
      if (failed.has(name)) continue;
      tree.variable = name;
      try {
        tree.set(json, segments, untransform(tree.get(json, segments), annotation, classes, tree));
      } catch (error) {
        fail(name, error);
      }
    }
  }
  const dropped: SkippedItem[] = [];
  for (const [first, others] of Object.entries(encoded.meta?.referentialEqualities ?? {})) {
    const from = parsePath(first);
    let target: { value: unknown } | undefined;
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
        target ??= { value: tree.get(json, from) };
        tree.set(json, to, target.value);
      } catch (error) {
        fail(to[0]!, error);
      }
    }
  }
  for (const { variable, error } of tree.finish()) fail(variable, error);
  for (const name of failed.keys()) delete json[name];
  const skipped = [...failed].map(([path, reason]) => ({
    path,
    reason: `could not be restored: ${reason}`,
  }));
  return { values: json, skipped: [...skipped, ...dropped] };
}

function applyAll(
  json: unknown,
  values: Record<string, Tree>,
  classes: ClassTable,
  tree: DecodedTree,
): unknown {
  for (const [path, annotation] of Object.entries(values)) {
    const segments = parsePath(path);
    json = tree.set(
      json,
      segments,
      untransform(tree.get(json, segments), annotation, classes, tree),
    );
  }
  return json;
}

/** Applies an `each` annotation: `template`'s annotations to every element of `json`. */
function applyEach(
  json: unknown,
  template: Record<string, Tree>,
  classes: ClassTable,
  tree: DecodedTree,
): unknown {
  if (!Array.isArray(json)) throw new TypeError("An each annotation is not on an array");
  const entries = Object.keys(template).map((path) => {
    const segments = parsePath(path);
    if (segments[0] !== "*") throw new TypeError(`An each annotation's path ${path} has no *`);
    return { rest: segments.slice(1), annotation: template[path]! };
  });
  for (let i = 0; i < json.length; i++) {
    let item = json[i];
    for (const { rest, annotation } of entries) {
      item = tree.set(item, rest, untransform(tree.get(item, rest), annotation, classes, tree));
    }
    json[i] = item;
  }
  return json;
}

function untransform(
  json: unknown,
  annotation: Tree,
  classes: ClassTable,
  tree: DecodedTree,
): unknown {
  // Indexed, not destructured: a fresh kernel runs this unoptimized, where destructuring
  // walks an iterator, once per instance of a thousand.
  const type = annotation[0];
  const children = annotation[1];
  if (type === EACH) return applyEach(json, children ?? {}, classes, tree);
  const inner = children ? applyAll(json, children, classes, tree) : json;
  if (Array.isArray(type)) {
    const kind = type[0];
    const name = type[1];
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
      if (isParsedRecord(inner) && REGROUP_KEY in inner) {
        const names = inner[REGROUP_KEY];
        delete inner[REGROUP_KEY];
        // Once shared references have filled in its columns.
        tree.afterwards(() => regroup(inner, names));
      }
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
    if (kind === "intern") {
      const Ctor = classes.byName(name);
      if (!Ctor) throw new TypeError(`its class ${name} is not defined after the restore`);
      const made = new (Ctor as unknown as new () => object)();
      const collection = made instanceof Map
        ? tree.makeMap(inner as [unknown, unknown][])
        : tree.makeSet(inner as unknown[]);
      // Once shared references have filled in its keys.
      tree.afterwards(() => internInPlace(collection, made));
      return collection;
    }
    if (kind === "export") {
      if (!classes.exported) throw new TypeError(`no module value ${name} is known here`);
      return classes.exported(name);
    }
    if (kind === "custom" && name === "ArrayBuffer") {
      return bufferOf(inner as string | number, tree);
    }
    if (kind === "custom" && name === "TypedArray") {
      const { type: view, base64, segment, byteOffset, length, class: className } = inner as {
        type: string;
        base64?: string;
        segment?: number;
        /** Its place in its buffer, when the buffer is carried whole (shared by views). */
        byteOffset?: number;
        length?: number;
        class?: string;
      };
      const Ctor = (globalThis as Record<string, unknown>)[view] as
        | (new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => unknown)
        | undefined;
      if (typeof Ctor !== "function" || !/Array$/.test(view)) {
        throw new TypeError(`Unknown typed array "${view}" in snapshot`);
      }
      const buffer = bufferOf(segment ?? base64!, tree);
      const array = byteOffset === undefined
        ? new Ctor(buffer)
        : new Ctor(buffer, byteOffset, length);
      if (className === undefined) return array;
      const Sub = classes.byName(className);
      if (!Sub) throw new TypeError(`its class ${className} is not defined after the restore`);
      return Object.setPrototypeOf(array, Sub.prototype);
    }
    if (kind === "custom" && name === "Builtin") return makeBuiltin(inner as BuiltinRecipe);
    if (kind === "custom" && name === "NullPrototype") return Object.setPrototypeOf(inner, null);
    if (kind === "custom" && name === "NumberArray") {
      // In place when its segment is aligned for a Float64Array view (a body's segments are).
      const bytes = typeof inner === "number" && segmentOf(inner, tree).byteOffset % 8 === 0
        ? segmentOf(inner, tree)
        : bytesOf(inner as string | number, tree);
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
      return new Date(inner as string | number);
    case "regexp": {
      const text = inner as string;
      const slash = text.lastIndexOf("/");
      return new RegExp(text.slice(1, slash), text.slice(slash + 1));
    }
    case "map":
      return tree.makeMap(inner as [unknown, unknown][]);
    case "set":
      return tree.makeSet(inner as unknown[]);
    case "Error":
      return decodeError(inner as SavedError, classes);
    case "URL":
      return new URL(inner as string);
  }
  throw new TypeError(`Unknown annotation "${type}" in snapshot`);
}

/** An error as the codec writes it; only `name` and `message` are always there. */
interface SavedError {
  name: string;
  message: string;
  stack?: string;
  class?: string;
  cause?: unknown;
  errors?: unknown[];
  props?: Record<string, unknown>;
}

function decodeError(e: SavedError, classes: ClassTable): Error {
  const options = "cause" in e ? { cause: e.cause } : undefined;
  const error = e.errors
    ? new AggregateError(e.errors, e.message, options)
    : new (Object.hasOwn(ERROR_CLASSES, e.name) ? ERROR_CLASSES[e.name]! : Error)(
      e.message,
      options,
    );
  if (error.name !== e.name) error.name = e.name;
  if (e.stack) error.stack = e.stack;
  if (e.class) {
    const Ctor = classes.byName(e.class);
    if (!Ctor) throw new TypeError(`its class ${e.class} is not defined after the restore`);
    Object.setPrototypeOf(error, Ctor.prototype);
  }
  // Defined, not assigned, as an instance's are (no setter runs).
  for (const [key, value] of Object.entries(e.props ?? {})) {
    Object.defineProperty(error, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return error;
}

/** A plain object as `JSON.parse` makes them: its own properties are writable data. */
function isParsedRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype) {
    return false;
  }
  return Object.isExtensible(v);
}

/**
 * The ArrayBuffer a value carries: the one of its segment (one for every value naming that
 * segment: views sharing a buffer share it again), or one of its base64 text's own.
 */
function bufferOf(carried: string | number, tree: DecodedTree): ArrayBuffer {
  if (typeof carried !== "number") return fromBase64(carried).buffer as ArrayBuffer;
  segmentOf(carried, tree);
  return tree.bufferOf(carried);
}

/** Bytes a value carries, in an ArrayBuffer of their own: a segment's index or base64 text. */
function bytesOf(carried: string | number, tree: DecodedTree): Uint8Array {
  return typeof carried === "number" ? segmentOf(carried, tree).slice() : fromBase64(carried);
}

/** The body's segment `index`, as a view of the body. */
function segmentOf(index: number, tree: DecodedTree): Uint8Array {
  const segment = tree.segments[index];
  if (segment === undefined) throw new TypeError(`The snapshot has no byte segment ${index}`);
  return segment;
}

function fromBase64(text: string): Uint8Array {
  const native = (Uint8Array as { fromBase64?: (text: string) => Uint8Array }).fromBase64;
  if (typeof native === "function") return native(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
