/**
 * A fast encoder for superjson's format (`{json, meta: {values, referentialEqualities, v: 1}}`;
 * `snapshot_decode.ts` reads it back), so a snapshot stays readable by `superjson.deserialize`
 * (with the custom types `ArrayBuffer`, `TypedArray`, `Function`, `NamedArray`, `NumberArray`,
 * `Builtin` and `NullPrototype` registered; a typed array is `{type, base64}` of its bytes,
 * little-endian) while JSON-safe data costs little more than `JSON.stringify`: the walk copies
 * only what needs an annotation and hands the rest to `JSON.stringify` as it is.
 *
 * Carried: JSON values, undefined, BigInt, NaN/±Infinity/-0, Date, RegExp, Map, Set, URL, errors
 * (with their class, cause and own properties), the built-ins of `builtin_values.ts` (`Intl`
 * formatters, TextEncoder, DataView…; the custom type `Builtin`), the library values of
 * `library_values.ts` (an ordered or grouped arquero table, d3's InternMap), typed arrays,
 * ArrayBuffers, shared and cyclic references, dictionaries made with `Object.create(null)`
 * (custom type `NullPrototype`), instances of classes the caller can name (prototype re-linked on
 * decode) and nested functions (by source). Anything else is left out and reported with its path
 * and the reason, and so is what would be lost unseen: an instance's Symbol-keyed or
 * non-enumerable state, a plain object's Symbol-keyed properties, an unnamed class. An array with
 * named properties (d3's `columns`) is carried with them as the custom type `NamedArray`. A long
 * array of numbers that are not all integers is carried as the custom type `NumberArray`: the
 * base64 of its values as little-endian Float64 bytes.
 *
 * One annotation is ours, not superjson's: an array of at least `EACH_LENGTH` objects whose
 * elements all carry the same annotations (rows with a Date column) is annotated once with
 * `["each", annotations]` (see `snapshot_format.ts`), where superjson would repeat them per
 * element; a superjson reader needs them spelled out. A Date is carried as its time in ms.
 *
 * Given a list of byte segments, the encoder puts those bytes there instead of in base64 (a
 * typed array is then `{type, segment}`, an ArrayBuffer and a `NumberArray` the segment's
 * index), for a body that carries them raw beside its JSON (`snapshot_body.ts`). Each
 * ArrayBuffer is then carried once: views over one buffer that another view or a value holds
 * too name the one segment of its whole bytes, with their place in it (a typed array's
 * `byteOffset` and `length`, a DataView's two more arguments), and come back over one buffer
 * (`a.buffer === b.buffer`, a write through one read through the other). A view whose buffer
 * nothing else holds carries only its own bytes (a view of 10 bytes into 1 GB takes 10), and
 * comes back over a buffer of just those. Without segments, each view carries its own bytes.
 *
 * @module
 */
import { type Checkpoint, NO_YIELD, SAVE_YIELDED } from "./save_yield.ts";
import type { SkippedItem } from "../protocol.ts";
import { builtinRecipe } from "./builtin_values.ts";
import { isNativeFunction, userSource } from "./function_source.ts";
import { isInternCollection, libraryRecipe, REGROUP_KEY } from "./library_values.ts";
import {
  type ClassTable,
  displayPath,
  EACH,
  type Encoded,
  ERROR_CLASSES,
  escapeKey,
  NO_CLASSES,
  type Tree,
  type TypeName,
} from "./snapshot_format.ts";

/** A function or an instance the encoding carries, at its display path (`obj.f`, `list[0]`). */
export interface EncodedItem {
  /** Made when asked: a save lists up to a thousand items and names few of them. */
  readonly path: string;
  /** The variable it is in (`list` of `list[0]`), as its display path starts. */
  readonly variable: string;
  value: unknown;
}

/** How many functions and instances are beyond {@linkcode encode}'s lists; the first's path. */
export interface Unlisted {
  count: number;
  first?: string;
}

/** Functions, and instances, that {@linkcode encode} lists by path at most. */
export const LISTED = 1_000;

/**
 * Where annotations go: `values`, keyed by paths relative to node `node`, or, for an `element`'s
 * scope, paths from its array with `*` for its index (`*.day`, `*` for the element itself).
 */
interface Scope {
  node: number;
  values: Record<string, Tree>;
  element: boolean;
}

/**
 * An array of at least this many objects whose elements all carry the same annotations (a
 * table's rows with a Date column, a list of one class's instances) is annotated once, with
 * `["each", annotations]`, rather than once per element.
 */
export const EACH_LENGTH = 64;

/**
 * Encodes a record of values (variable name → value).
 *
 * Paths are built only where the format needs them (an annotation, a shared reference): each
 * object walked gets a node number, and its path is the chain of (parent node, key) pairs. A
 * path string for every value would cost more memory than the data in a large namespace, and a
 * save must fit beside the data.
 *
 * @param classes Names session classes so their instances keep their prototype.
 * @param unnamed Arrays already known to have no named keys (see `StateProbe.namedKeysAll`):
 *   their keys are not listed again.
 */
export function encode(
  root: Record<string, unknown>,
  classes: ClassTable = NO_CLASSES,
  checkpoint: Checkpoint = NO_YIELD,
  unnamed: ReadonlySet<unknown> = new Set(),
  segments?: Uint8Array[],
): {
  encoded: Encoded;
  skipped: SkippedItem[];
  /** Functions carried by their source, the first LISTED of them. */
  functions: EncodedItem[];
  /** Instances of classes, carried by their own enumerable properties, the first LISTED. */
  instances: EncodedItem[];
  unlisted: Unlisted;
  /** Whether an array of numbers went as a `NumberArray`, which older kernels cannot read. */
  packed: boolean;
  /** Whether some array's elements share an `each` annotation, which older kernels cannot read. */
  each: boolean;
  /**
   * Whether some view names its place in a buffer carried whole (a buffer shared by views),
   * which older kernels would read as a view of the whole buffer.
   */
  views: boolean;
} {
  const seen = new Map<object, number>();
  const functions: EncodedItem[] = [];
  const instances: EncodedItem[] = [];
  const unlisted: Unlisted = { count: 0 };
  // Only listed items get a path string: one for every value would cost too much (see above).
  const list = (items: EncodedItem[], at: number, value: unknown) => {
    if (items.length < LISTED) {
      items.push({
        value,
        get path() {
          return displayPath(pathOf(at));
        },
        get variable() {
          let n = at;
          while (parents[n]! > 0) n = parents[n]!;
          // As the start of its display path reads, up to a `.` or `[`, like the paths of
          // the save's other reports.
          return /^[^.[]*/.exec(displayPath(escapeKey(String(keys[n]))))![0];
        },
      });
    } else if (unlisted.count++ === 0) unlisted.first = displayPath(pathOf(at));
  };
  let arrayBudget = 1_000_000;
  // Node 0 is the root; node n's parent and key are parents[n] and keys[n].
  const parents: number[] = [-1];
  const keys: (string | number)[] = [""];
  /** Later paths of each object seen more than once, by the node of its first sighting. */
  const equalities = new Map<number, string[]>();
  const skipped: SkippedItem[] = [];
  const rootScope: Scope = { node: 0, values: {}, element: false };
  let annotated = false;
  /** Whether some array of numbers went as its bytes (a `NumberArray`). */
  let packed = false;
  /** Whether some array's elements share one `each` annotation. */
  let each = false;
  /** Annotations written so far, in any scope: none new means an element needed none. */
  let written = 0;
  /** Bytes as the body carries them: a segment's index, or their base64 without segments. */
  const bytesOf = (bytes: Uint8Array): string | number =>
    segments ? segments.push(bytes) - 1 : toBase64(bytes);
  /**
   * Each buffer met, through a view or as itself, when bytes go to segments: the segment
   * reserved for it, filled in once the walk is over and every view over it is known.
   */
  const buffers = new Map<ArrayBufferLike, CarriedBuffer>();
  /** Whether some view names its place in a buffer carried whole. */
  let views = false;

  /** The segment of `buffer`'s bytes, met as itself or (`view`) through a view. */
  function carry(buffer: ArrayBufferLike, view?: CarriedView): number {
    let use = buffers.get(buffer);
    if (!use) {
      use = { segment: segments!.push(NO_BYTES) - 1, views: [], itself: false };
      buffers.set(buffer, use);
    }
    if (view) use.views.push(view);
    else use.itself = true;
    return use.segment;
  }

  /** A view's buffer, named in the report when it is a SharedArrayBuffer (not carried as one). */
  function plainBuffer(o: ArrayBufferView, at: number): void {
    if (typeof SharedArrayBuffer === "function" && o.buffer instanceof SharedArrayBuffer) {
      skipped.push({
        path: displayPath(pathOf(at)),
        reason: `restored over a plain ArrayBuffer of its bytes: its SharedArrayBuffer (which ` +
          `other workers may share) is not carried`,
      });
    }
  }

  function node(parent: number, key: string | number): number {
    keys.push(key);
    const n = parents.push(parent) - 1;
    // A yieldable save looks up from its walk every few thousand nodes (see save_yield.ts).
    if ((n & 4095) === 0) checkpoint();
    return n;
  }

  /** Node `n`'s path from the root, or from its ancestor `from`, after `head` if given. */
  function pathOf(n: number, from = 0, head?: string): string {
    const segments: string[] = [];
    for (let at = n; at !== from && at > 0; at = parents[at]!) {
      const key = keys[at]!;
      segments.push(typeof key === "number" ? String(key) : escapeKey(key));
    }
    if (head !== undefined) segments.push(head);
    return segments.reverse().join(".");
  }

  function annotate(scope: Scope, at: number, tree: Tree): void {
    annotated = true;
    written++;
    scope.values[pathOf(at, scope.node, scope.element ? "*" : undefined)] = tree;
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
        const label = classes.exportOf?.(v);
        if (label) return exportRef(scope, at, v, label);
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
    const label = classes.exportOf?.(o);
    if (label) return exportRef(scope, at, o, label);
    if (remember(o, at)) return null;
    if (Array.isArray(o)) {
      const arrayProto = Object.getPrototypeOf(o);
      if (arrayProto !== Array.prototype) {
        const name = arrayProto?.constructor?.name || "an unnamed class";
        skipped.push({
          path: displayPath(pathOf(at)),
          reason: `restored as a plain Array: its class ${name} (an Array subclass) is not ` +
            `carried, nor are its methods`,
        });
      }
      // Listing an array's keys costs about 90 ns per element: a variable's own arrays are
      // always looked at, nested ones up to a budget, so a save stays near JSON.stringify's cost.
      if ((parent === 0 || arrayBudget > 0) && hasNamedKeys(o, parent !== 0)) {
        // Written as an object of its indices, named keys and length, so that paths into it
        // (`rows.3`, `rows.columns`) are the same before and after it is an array again.
        const inner: Scope = { node: at, values: {}, element: false };
        const json = walkObject(o, at, inner, true) as Record<string, unknown>;
        json.length = o.length;
        annotate(scope, at, withChildren(["custom", "NamedArray"], inner));
        return json;
      }
      return walkArray(o, at, scope);
    }
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) {
      const symbols = Object.getOwnPropertySymbols(o);
      if (symbols.length > 0) {
        skipped.push({ path: displayPath(pathOf(at)), reason: symbolKeyed(symbols) });
      }
      if (proto !== null) return walkObject(o, at, scope);
      // A dictionary made with Object.create(null) stays one: with Object's prototype, a key
      // like "constructor" or "toString" would be found where none was set.
      const inner: Scope = { node: at, values: {}, element: false };
      const json = walkObject(o, at, inner, true);
      annotate(scope, at, withChildren(["custom", "NullPrototype"], inner));
      return json;
    }
    const subclassed = subclassedBuiltin(o, proto);
    // d3's InternMap and InternSet come back as themselves (see library_values.ts).
    const intern = subclassed && isInternCollection(o)
      ? classes.nameOf(proto.constructor)
      : undefined;
    if (subclassed && !intern) {
      skipped.push({
        path: displayPath(pathOf(at)),
        reason: `restored as a plain ${subclassed}: its class ${
          proto?.constructor?.name || "(unnamed)"
        } (a ${subclassed} subclass) is not carried, nor are its methods or hidden state`,
      });
    }
    if (o instanceof Date) {
      annotate(scope, at, DATE);
      // Its time in ms, which `new Date` reads as superjson's ISO text (as earlier kernels and
      // superjson do): a third of the text's bytes, and no date parsing at restore.
      const time = o.getTime();
      return Number.isNaN(time) ? "Invalid Date" : time;
    }
    if (o instanceof RegExp) {
      annotate(scope, at, ["regexp"]);
      return String(o);
    }
    if (o instanceof Map) {
      const inner: Scope = { node: at, values: {}, element: false };
      let i = 0;
      const entries: unknown[] = [];
      for (const [k, val] of o) {
        const entry = node(at, i++);
        entries.push([walk(k, entry, 0, inner), walk(val, entry, 1, inner)]);
      }
      annotate(scope, at, withChildren(intern ? ["intern", intern] : "map", inner));
      return entries;
    }
    if (o instanceof Set) {
      const inner: Scope = { node: at, values: {}, element: false };
      let i = 0;
      const items: unknown[] = [];
      for (const item of o) items.push(walk(item, at, i++, inner));
      annotate(scope, at, withChildren(intern ? ["intern", intern] : "set", inner));
      return items;
    }
    if (o instanceof Error) return walkError(o, at, scope, proto?.constructor);
    if (o instanceof URL) {
      annotate(scope, at, ["URL"]);
      return o.href;
    }
    if (isDetached(o)) return skip(scope, at, DETACHED);
    if (segments && o instanceof DataView && proto === DataView.prototype) {
      // As builtin_values.ts's recipe, but naming its buffer's segment (see `carry`).
      plainBuffer(o, at);
      const args: unknown[] = [];
      args.push(carry(o.buffer, { view: o, json: args }));
      annotate(scope, at, DATA_VIEW);
      return { type: "DataView", args };
    }
    const recipe = builtinRecipe(o, proto?.constructor);
    if (recipe) {
      const inner: Scope = { node: at, values: {}, element: false };
      const args = walkArray(recipe.args, node(at, "args"), inner);
      annotate(scope, at, withChildren(["custom", "Builtin"], inner));
      return { type: recipe.type, args };
    }
    if (o instanceof ArrayBuffer) {
      annotate(scope, at, [["custom", "ArrayBuffer"]]);
      return segments ? carry(o) : toBase64(new Uint8Array(o));
    }
    if (ArrayBuffer.isView(o) && !(o instanceof DataView)) {
      // Its bytes, in base64: a million floats take 10.7 MB, not 19 MB of decimal digits, and
      // are written and read without a number-by-number pass.
      annotate(scope, at, [["custom", "TypedArray"]]);
      plainBuffer(o, at);
      const base = TYPED_ARRAYS.find((T) => o instanceof T)!;
      const json: Record<string, unknown> = { type: base.name };
      if (segments) json.segment = carry(o.buffer, { view: o, json });
      else json.base64 = toBase64(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
      // A subclass (node's Buffer): its prototype again when its class can be found.
      const ctor = proto?.constructor;
      if (ctor !== base) {
        const className = classes.nameOf(ctor);
        if (className) json.class = className;
        else {
          skipped.push({
            path: displayPath(pathOf(at)),
            reason: `restored as a ${base.name}: its class ${ctor?.name || "(unnamed)"} is ` +
              `neither a session class nor exported by an imported module`,
          });
        }
      }
      return json;
    }
    // Carried as the value that rebuilds it, in its place (references to it stay valid).
    const library = libraryRecipe(o);
    if (library) return walkInstance(library.value, at, scope, library.regroup);
    return walkInstance(o, at, scope);
  }

  /**
   * An instance of a class, at node `at`; `regroup` (an arquero table's group names) travels
   * beside its own properties, for the decode to group it again.
   */
  function walkInstance(o: object, at: number, scope: Scope, regroup?: string[]): unknown {
    const ctor = Object.getPrototypeOf(o)?.constructor;
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
      const inner: Scope = { node: at, values: {}, element: false };
      const json = walkObject(o, at, inner, true) as Record<string, unknown>;
      if (regroup) json[REGROUP_KEY] = regroup;
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

  /**
   * An error as superjson writes one (`name`, `message`, `stack`), plus what superjson drops:
   * its class when it is not a built-in one (`class MyError extends Error`), its `cause`, an
   * AggregateError's `errors`, and its own enumerable properties (`code`, `status`) as `props`.
   */
  function walkError(e: Error, at: number, scope: Scope, ctor: unknown): object {
    const inner: Scope = { node: at, values: {}, element: false };
    const json: Record<string, unknown> = { name: e.name, message: e.message };
    if (e.stack) json.stack = e.stack;
    const className = BUILTIN_ERRORS.has(ctor) ? undefined : classes.nameOf(ctor);
    if (className) json.class = className;
    else if (!BUILTIN_ERRORS.has(ctor)) {
      const kind = typeof ctor === "function" && ctor.name ? ctor.name : "an unnamed class";
      skipped.push({
        path: displayPath(pathOf(at)),
        reason: `restored as an Error of its name and message: its class ${kind} is neither ` +
          `a session class nor exported by an imported module`,
      });
    }
    if (Object.hasOwn(e, "cause")) json.cause = walk(e.cause, at, "cause", inner);
    if (e instanceof AggregateError) json.errors = walk(e.errors, at, "errors", inner);
    if (Object.keys(e).length > 0) json.props = walkObject(e, node(at, "props"), inner, true);
    annotate(scope, at, withChildren("Error", inner));
    return json;
  }

  /** A module's own value, carried by its name and found again at restore. */
  function exportRef(scope: Scope, at: number, v: object, label: string): null {
    if (remember(v, at)) return null;
    annotate(scope, at, [["export", label]]);
    return null;
  }

  function walkArray(a: unknown[], at: number, scope: Scope): unknown {
    if (isPackable(a)) {
      packed = true;
      annotate(scope, at, [["custom", "NumberArray"]]);
      return bytesOf(new Uint8Array(new Float64Array(a as number[]).buffer));
    }
    let out: unknown[] | undefined;
    // The elements' annotations are gathered apart while they are all objects with the same
    // ones; `elements` holds their nodes, for the annotations to go into `scope` the moment one
    // differs.
    let template: Record<string, Tree> | undefined;
    let elements: number[] | undefined = a.length >= EACH_LENGTH ? [] : undefined;
    let own: Scope = { node: 0, values: {}, element: true };
    for (let i = 0; i < a.length; i++) {
      const item = a[i];
      let w: unknown;
      if (typeof item === "number" && Number.isFinite(item) && !Object.is(item, -0)) {
        w = item;
        if (elements) elements = spill(elements, template, scope);
      } else if (elements && typeof item === "object" && item !== null) {
        const before = written;
        // `walk` makes an object's node before any other: the next one.
        own.node = parents.length;
        w = walk(item, at, i, own);
        const none = written === before;
        template ??= none ? NONE : own.values;
        if (template === NONE ? none : sameAnnotations(template, own.values)) {
          // Those of an element that needed none are no annotations to spill.
          if (template !== NONE) elements.push(own.node);
        } else {
          elements = spill(elements, template, scope);
          merge(own, scope);
        }
        if (!none) own = { node: 0, values: {}, element: true };
      } else {
        if (elements) elements = spill(elements, template, scope);
        w = walk(item, at, i, scope);
      }
      if (out) out[i] = w;
      else if (w !== item) {
        out = a.slice(0, i);
        out[i] = w;
      }
    }
    if (elements && template && !isEmpty(template)) {
      each = true;
      annotate(scope, at, [EACH, template]);
    }
    return out ?? a;
  }

  /**
   * Puts the annotations gathered for `elements` (each `template`'s) into `scope`, as each
   * element's own: the array's elements no longer share them.
   */
  function spill(
    elements: number[],
    template: Record<string, Tree> | undefined,
    scope: Scope,
  ): undefined {
    if (!template || isEmpty(template)) return undefined;
    for (const n of elements) merge({ node: n, values: template, element: true }, scope);
    return undefined;
  }

  /** Puts the annotations of an element's scope into its array's `scope`, `*` made its path. */
  function merge(element: Scope, scope: Scope): void {
    if (isEmpty(element.values)) return;
    const base = pathOf(element.node, scope.node, scope.element ? "*" : undefined);
    for (const path of Object.keys(element.values)) {
      written++;
      scope.values[base + path.slice(1)] = element.values[path]!;
    }
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
    if (unnamed.has(a)) return false;
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
    let later = equalities.get(first);
    if (!later) equalities.set(first, later = []);
    later.push(pathOf(at));
    return true;
  }

  // Each variable is walked on its own terms: one whose reading throws (a Proxy's trap, a
  // getter, nesting too deep for the stack) is skipped by name, and the others are saved.
  const json: Record<string, unknown> = {};
  for (const name of Object.keys(root)) {
    const before = {
      node: parents.length,
      skipped: skipped.length,
      functions: functions.length,
      instances: instances.length,
    };
    try {
      json[name] = walk(root[name], 0, name, rootScope);
    } catch (error) {
      if ((error as Error)?.name === SAVE_YIELDED) throw error;
      forget(escapeKey(name), before);
      skipped.push({ path: displayPath(escapeKey(name)), reason: unreadable(error) });
    }
  }

  /** Drops what the walk of a variable that failed left behind: annotations, sightings, lists. */
  function forget(
    prefix: string,
    before: { node: number; skipped: number; functions: number; instances: number },
  ): void {
    const inside = (path: string) => path === prefix || path.startsWith(`${prefix}.`);
    for (const path of Object.keys(rootScope.values)) {
      if (inside(path)) delete rootScope.values[path];
    }
    for (const [first, later] of equalities) {
      const kept = later.filter((p) => !inside(p));
      // The variable's own nodes are those made since its walk began.
      if (first >= before.node || kept.length === 0) equalities.delete(first);
      else equalities.set(first, kept);
    }
    for (const [o, at] of seen) if (at >= before.node) seen.delete(o);
    skipped.length = before.skipped;
    functions.length = before.functions;
    instances.length = before.instances;
  }

  // Each buffer's bytes, now that the views over it are known: a buffer that two views share,
  // or that is a value itself, goes whole, and its views say where they are in it.
  for (const [buffer, use] of buffers) {
    if (!use.itself && use.views.length === 1) {
      const { view } = use.views[0]!;
      segments![use.segment] = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      continue;
    }
    segments![use.segment] = new Uint8Array(buffer);
    for (const { view, json } of use.views) {
      views = true;
      if (Array.isArray(json)) json.push(view.byteOffset, view.byteLength);
      else {
        json.byteOffset = view.byteOffset;
        json.length = (view as Uint8Array).length;
      }
    }
  }

  const encoded: Encoded = { json };
  const hasEqualities = equalities.size > 0;
  if (annotated || hasEqualities) {
    encoded.meta = { v: 1 };
    if (annotated) encoded.meta.values = rootScope.values;
    if (hasEqualities) {
      // Each first path made once, not at each later sighting.
      const record: Record<string, string[]> = {};
      for (const [first, later] of equalities) record[pathOf(first)] = later;
      encoded.meta.referentialEqualities = record;
    }
  }
  return { encoded, skipped, functions, instances, unlisted, packed, each, views };
}

/** A buffer whose bytes go to a segment: see `carry` in {@linkcode encode}. */
interface CarriedBuffer {
  segment: number;
  views: CarriedView[];
  /** Whether the buffer is itself a value the walk met. */
  itself: boolean;
}

/**
 * A view over a carried buffer, and the JSON that names its segment: a typed array's record
 * (given `byteOffset` and `length` when the buffer goes whole), or a DataView's arguments.
 */
interface CarriedView {
  view: ArrayBufferView;
  json: Record<string, unknown> | unknown[];
}

/** Why a buffer, or a view over one, that was transferred is not in a snapshot. */
const DETACHED = "its ArrayBuffer was transferred (detached): it holds no bytes to save";

/** Whether `o` is an ArrayBuffer, or a view over one, that was transferred; pure. */
function isDetached(o: object): boolean {
  const buffer = ArrayBuffer.isView(o) ? o.buffer : o;
  return buffer instanceof ArrayBuffer && (buffer as { detached?: boolean }).detached === true;
}

/** A segment reserved, until the walk is over. */
const NO_BYTES = new Uint8Array(0);

/** A DataView's annotation when its buffer is a segment: a built-in made of an ArrayBuffer. */
const DATA_VIEW: Tree = Object.freeze([
  ["custom", "Builtin"],
  { "args.0": [["custom", "ArrayBuffer"]] },
]) as unknown as Tree;

/** A Date's annotation, one for all. */
const DATE: Tree = Object.freeze(["Date"]) as unknown as Tree;

/** The annotations of an element that needs none (never written to). */
const NONE: Record<string, Tree> = Object.freeze({}) as Record<string, Tree>;

/** Whether a record has no keys, without listing them. */
function isEmpty(record: object): boolean {
  for (const _ in record) return false;
  return true;
}

/** Whether two scopes' annotations are the same, keys in the same order. */
function sameAnnotations(a: Record<string, Tree>, b: Record<string, Tree>): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  let i = 0;
  for (const key in b) {
    if (keys[i++] !== key || !sameTree(a[key]!, b[key]!)) return false;
  }
  return i === keys.length;
}

function sameTree(a: Tree, b: Tree): boolean {
  if (a === b) return true;
  const [ta, ca] = a;
  const [tb, cb] = b;
  const sameType = typeof ta === "string"
    ? ta === tb
    : Array.isArray(tb) && ta[0] === tb[0] && ta[1] === tb[1];
  if (!sameType || a.length !== b.length) return false;
  return ca === undefined || sameAnnotations(ca, cb!);
}

/** Arrays of numbers at least this long, some not integers, are carried as their bytes. */
export const PACKED_LENGTH = 1024;

/**
 * Whether `a` is a long array of numbers only (no hole), one at least not an integer: its
 * decimal digits would take about 19 bytes a number and 44 ms a million to write, where its
 * Float64 bytes take 10.7 in base64 and 5 ms, and read back exactly (-0, NaN and ±Infinity
 * too). An array of integers only stays JSON, which writes them shorter.
 */
function isPackable(a: unknown[]): boolean {
  if (a.length < PACKED_LENGTH) return false;
  let fraction = false;
  for (let i = 0; i < a.length; i++) {
    const item = a[i];
    if (typeof item !== "number") return false;
    if (!fraction && !Number.isInteger(item)) fraction = true;
  }
  return fraction;
}

/** The typed array classes, whose instances a snapshot carries as their bytes. */
const TYPED_ARRAYS = [
  Uint8Array,
  Uint8ClampedArray,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  ...(typeof (globalThis as { Float16Array?: unknown }).Float16Array === "function"
    ? [(globalThis as unknown as { Float16Array: Uint8ArrayConstructor }).Float16Array]
    : []),
];

/** Built-ins carried by their value, which a subclass's instance would come back as. */
const VALUE_BUILTINS = [Date, RegExp, Map, Set, URL];

/** The built-in that `o` is a subclass instance of (prototype `proto`), if any; pure. */
function subclassedBuiltin(o: object, proto: unknown): string | undefined {
  for (const B of VALUE_BUILTINS) {
    if (o instanceof B) return proto === B.prototype ? undefined : B.name;
  }
  return undefined;
}

/** The built-in error classes: their instances need no class name in a snapshot. */
const BUILTIN_ERRORS: ReadonlySet<unknown> = new Set([
  ...Object.values(ERROR_CLASSES),
  AggregateError,
]);

/** Why a plain object's Symbol-keyed properties are not in a snapshot, in words; pure. */
function symbolKeyed(symbols: symbol[]): string {
  const shown = symbols.slice(0, 3).map(String).join(", ") + (symbols.length > 3 ? ", …" : "");
  const one = symbols.length === 1;
  return `its ${symbols.length} Symbol-keyed propert${one ? "y" : "ies"} (${shown}) cannot be ` +
    `saved; the rest of it is`;
}

/** Why a variable could not be read for a save, in words; pure. */
export function unreadable(error: unknown): string {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return "it is nested too deeply to be saved (the walk ran out of stack)";
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `reading it threw ${text.slice(0, 200)} (a Proxy or a getter), so it cannot be saved`;
}

/**
 * Where an instance keeps state that `Object.keys` does not show (Symbol-keyed or
 * non-enumerable own properties), in words; `undefined` when it keeps none.
 */
function hiddenState(o: object): string | undefined {
  // One list of every own key, and the enumerable string ones: for the thousands of instances
  // of a save, that is all it takes to tell that nothing is hidden.
  const own = Reflect.ownKeys(o);
  if (own.length === Object.keys(o).length) return undefined;
  const symbols = own.filter((k) => typeof k === "symbol").length;
  if (symbols > 0) {
    return `under ${symbols} Symbol key${symbols === 1 ? "" : "s"}, which cannot be saved`;
  }
  const names = Object.getOwnPropertyNames(o);
  const hidden = names.filter((n) => !Object.prototype.propertyIsEnumerable.call(o, n));
  return `in non-enumerable properties (${hidden.slice(0, 5).join(", ")}), which cannot be saved`;
}

function withChildren(type: TypeName, inner: Scope): Tree {
  return Object.keys(inner.values).length > 0 ? [type, inner.values] : [type];
}

function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}
