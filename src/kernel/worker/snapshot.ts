/**
 * Saving and restoring a kernel's namespace inside its Worker.
 *
 * A snapshot holds, in this order of restoring: import bindings and modules from `import()` held
 * in a variable (imported again), functions and classes (by source, evaluated again, retried
 * until those that extend or use others succeed), then every other value in one superjson-format
 * tree (`snapshot_codec.ts`), so references shared between variables stay shared and instances
 * get their class back: a session class, or one an imported module exports (`class_map.ts`),
 * imported again before the values are decoded.
 * Functions that close over local variables, and instances with `#private` fields, are named in
 * the report (`state_probe.ts`): what they hold there does not come back.
 *
 * @module
 */
import { type Checkpoint, NO_YIELD, SAVE_YIELDED } from "./save_yield.ts";
import type { RestoreReport, SkippedItem, SnapshotTaken } from "../protocol.ts";
import {
  carriedByReference,
  classLabel,
  type ClassRef,
  exportedValues,
  resolveExport,
} from "./class_map.ts";
import { type DeclarationKind, globalAccess } from "./compiled_cell.ts";
import { functionExpression, userSource } from "./function_source.ts";
import { providedExpression } from "./jupyter.ts";
import type { ImportRecord, ModuleLoader } from "./module_loader.ts";
import type { Namespace } from "./namespace.ts";
import type { Repl } from "./repl.ts";
import { writeBody } from "./body_writer.ts";
import { encode, type EncodedItem, type Unlisted, unreadable } from "./snapshot_codec.ts";
import { decodeRecord } from "./snapshot_decode.ts";
import type { ClassTable, Encoded } from "./snapshot_format.ts";
import { BINARY_FORMAT, bodyParts } from "./snapshot_body.ts";
import { StateProbe } from "./state_probe.ts";
import { type HeldWork, type Hold, holdScheduling } from "./restore_hold.ts";

/** Version of the snapshot layout below; a kernel refuses layouts it does not know. */
export const SNAPSHOT_FORMAT = 1;
/**
 * The same layout where `data` may hold arrays of numbers as their bytes (the codec's
 * `NumberArray`): written only by a body that holds one, so that a kernel of an earlier version
 * (another host on a shared registry) still reads every other body, and refuses this one whole
 * rather than losing those arrays.
 */
export const PACKED_FORMAT = 2;
/**
 * A body whose `data` may hold `each` annotations (an array's elements annotated once, see
 * `snapshot_format.ts`), with or without byte segments: written only by a body that holds one,
 * so a kernel of an earlier version refuses it whole, by its number.
 */
export const EACH_FORMAT = 4;
/**
 * A body with byte segments whose `data` may hold views sharing one buffer, carried once, whole,
 * each view naming its place in it (and `each` annotations too): written only by a body that
 * holds one, so a kernel of an earlier version refuses it whole rather than reading each such
 * view as one over the whole buffer.
 */
export const VIEWS_FORMAT = 5;
/** The layouts this kernel restores; `BINARY_FORMAT`'s bodies carry bytes beside the JSON. */
const READABLE_FORMATS: readonly number[] = [
  SNAPSHOT_FORMAT,
  PACKED_FORMAT,
  BINARY_FORMAT,
  EACH_FORMAT,
  VIEWS_FORMAT,
];

interface Declaration {
  name: string;
  kind: DeclarationKind;
  source: string;
}

interface SnapshotBody {
  format:
    | typeof SNAPSHOT_FORMAT
    | typeof PACKED_FORMAT
    | typeof BINARY_FORMAT
    | typeof EACH_FORMAT
    | typeof VIEWS_FORMAT;
  imports: (ImportRecord & { name: string; kind: DeclarationKind })[];
  declarations: Declaration[];
  /** Kind of each variable in `data`. */
  kinds: Record<string, DeclarationKind>;
  /**
   * Values of imported modules that `data` names, by their label: the classes of instances, and
   * functions and namespace objects carried by reference.
   */
  classes?: Record<string, ClassRef>;
  data: Encoded;
}

const SLOT = Symbol.for("mcp-kernel-host.restore");
/** Where a function or class evaluated from a value's source is left (see `Repl.runNow`). */
const EVALUATED = "\0evaluated";
const SLOT_EXPR = globalAccess(SLOT);
/** Where the declarations' script leaves closures that read its lexical bindings. */
const DECLARED = "\0declared";

/** Whether a declaration of `kind` makes a binding of the global lexical scope. */
function isLexicalKind(kind: DeclarationKind): boolean {
  return kind === "let" || kind === "const" || kind === "class";
}

/**
 * Serializes the user's namespace, handing the body's bytes to `emit` in pieces (see
 * `body_writer.ts`). Never throws for a value it cannot save: it lists it.
 */
export async function takeSnapshot(
  repl: Repl,
  namespace: Namespace,
  loader: ModuleLoader,
  emit: (bytes: Uint8Array) => void,
  checkpoint: Checkpoint = NO_YIELD,
): Promise<Omit<SnapshotTaken, "body">> {
  const lexicalNames = await repl.lexicalNames();
  const lexical = new Set(lexicalNames);
  const body: SnapshotBody = {
    format: SNAPSHOT_FORMAT,
    imports: [],
    declarations: [],
    kinds: {},
    data: { json: {} },
  };
  const skipped: SkippedItem[] = [];
  const values: Record<string, unknown> = {};
  const functions = new Map<unknown, string>();
  const probe = new StateProbe(repl);
  const exported = await exportedValues(loader);
  const names = await namespace.names(lexicalNames);
  const reads = await namespace.readAll(names);
  /** Functions held in variables, looked into together once all are classified. */
  const probed: { declaration: Declaration; value: unknown }[] = [];
  /** Saved functions and classes with own enumerable properties (static fields, `fn.cache`). */
  const withProps = new Map<string, object>();
  for (const name of names) {
    checkpoint();
    try {
      // Only a variable that may hold an import is classified with an await (a thousand
      // awaits cost a good part of a millisecond).
      const read = reads.get(name)!;
      if (loader.records.has(name) || (read.ok && isModule(read.value))) await classify(name);
      else classifyValue(name);
    } catch (error) {
      if ((error as Error)?.name === SAVE_YIELDED) throw error;
      skipped.push({ path: name, reason: unreadable(error) });
    }
  }

  /** Puts variable `name` where it belongs in the body: an import, a declaration, a value. */
  async function classify(name: string): Promise<void> {
    const read = reads.get(name)!;
    if (read.ok) {
      const record = loader.records.get(name);
      if (record && await isStillImported(loader, record, read.value)) {
        body.imports.push({ name, kind: kindOf(name), ...record });
        return;
      }
      const dynamic = await dynamicImportOf(loader, read.value);
      if (dynamic) {
        body.imports.push({ name, kind: kindOf(name), ...dynamic });
        return;
      }
    }
    classifyValue(name);
  }

  /** The keyword variable `name` was declared with. */
  function kindOf(name: string): DeclarationKind {
    return (repl.kinds.get(name) ?? (lexical.has(name) ? "let" : "var")) as DeclarationKind;
  }

  /** {@linkcode classify} for a variable that holds no import. */
  function classifyValue(name: string): void {
    const kind = kindOf(name);
    const read = reads.get(name)!;
    // Never initialized (its cell threw or was stopped first): it had no value to lose, and a
    // later cell declares it again as it would have.
    if (!read.ok) return;
    const value = read.value;
    const provided = providedExpression(value);
    if (provided) {
      body.declarations.push({ name, kind, source: provided });
      return;
    }
    if (typeof value === "function" && !exported.has(value)) {
      const source = userSource(value);
      if (source === undefined) {
        skipped.push({ path: name, reason: "a built-in or bound function cannot be saved" });
        return;
      }
      // A function or class declared at a cell's top level has no locals to close over; only
      // other values (`const next = mk(10)`) are looked into, a few inspector calls each.
      const declared = kind === "function" || kind === "class";
      const declaration = { name, kind, source };
      functions.set(value, name);
      body.declarations.push(declaration);
      if (Object.keys(value).length > 0) withProps.set(name, value);
      if (!declared) probed.push({ declaration, value });
      return;
    }
    body.kinds[name] = kind;
    values[name] = value;
  }
  const captures = await probe.capturedAll(probed.map((p) => p.value));
  const closing = new Set<Declaration>();
  probed.forEach(({ declaration, value }, i) => {
    const captured = captures[i]!;
    if (captured.length === 0) return;
    closing.add(declaration);
    functions.delete(value);
    skipped.push({ path: declaration.name, reason: closureReason(captured) });
  });
  if (closing.size > 0) body.declarations = body.declarations.filter((d) => !closing.has(d));
  // Their source makes them again with their initial static fields: the current ones go with
  // the values, in the same tree, so what they share with variables stays shared.
  for (const [name, fn] of withProps) {
    const source = body.declarations.find((d) => d.name === name)?.source ?? "";
    if (functions.has(fn)) values[PROPS + name] = ownProps(fn, name, source, skipped);
  }
  const used: Record<string, ClassRef> = {};
  const labelOf = (value: unknown) => {
    const ref = exported.get(value);
    if (!ref) return undefined;
    const label = classLabel(ref);
    used[label] = ref;
    return label;
  };
  // A factory whose `prototype` is its objects' (dayjs, moment): their class is not exported,
  // but the factory finds that prototype again.
  let factories: Map<unknown, unknown> | undefined;
  const factoryOf = (ctor: unknown) => {
    factories ??= new Map(
      [...exported.keys()].filter((v) => typeof v === "function" && isObject(v.prototype))
        .map((f) => [(f as { prototype: unknown }).prototype, f]),
    );
    return typeof ctor === "function" ? factories.get(ctor.prototype) : undefined;
  };
  const classes: ClassTable = {
    nameOf: (ctor) => functions.get(ctor) ?? labelOf(ctor) ?? labelOf(factoryOf(ctor)),
    byName: () => undefined,
    // Asked of every object the walk meets: not at all when no module value is known.
    ...(exported.size > 0 && {
      exportOf: (value: unknown) =>
        exported.has(value) && carriedByReference(value) ? labelOf(value) : undefined,
    }),
  };
  const segments: Uint8Array[] = [];
  const unnamed = unnamedArrays(probe, values);
  const encoded = encode(
    values,
    classes,
    checkpoint,
    unnamed instanceof Promise ? await unnamed : unnamed,
    segments,
  );
  body.data = encoded.encoded;
  // Bytes beside the JSON only when some value holds them: other bodies stay readable by
  // earlier kernels.
  if (encoded.views) body.format = VIEWS_FORMAT;
  else if (encoded.each) body.format = EACH_FORMAT;
  else if (segments.length > 0) body.format = BINARY_FORMAT;
  else if (encoded.packed) body.format = PACKED_FORMAT;
  if (Object.keys(used).length > 0) body.classes = used;
  skipped.push(...encoded.skipped);
  skipped.push(...await probeEncoded(probe, encoded, skipped));
  for (const item of skipped) item.path = shownPath(item.path);
  writeBody(body, segments, emit);
  return { format: body.format, skipped };
}

/** Arrays at least this long have their named keys looked up through the inspector. */
const LONG_ARRAY = 20_000;

/**
 * The variables' long arrays that have no named keys, looked up together through the inspector
 * (see `StateProbe.namedKeysAll`): listing a million indices to find none costs 35 ms.
 */
function unnamedArrays(
  probe: StateProbe,
  values: Record<string, unknown>,
): Set<unknown> | Promise<Set<unknown>> {
  const long: unknown[][] = [];
  for (const name of Object.keys(values)) {
    const v = values[name];
    if (Array.isArray(v) && v.length >= LONG_ARRAY) long.push(v);
  }
  // Not awaited when there are none.
  if (long.length === 0) return new Set();
  return namedOnes(probe, long);
}

/** Those of `long` (arrays) that have no named keys, asked of the inspector together. */
async function namedOnes(probe: StateProbe, long: unknown[][]): Promise<Set<unknown>> {
  const named = await probe.namedKeysAll(long);
  return new Set(long.filter((_, i) => named[i] === false));
}

/** Time each evaluation of a restore may take: class bodies and static blocks run again. */
export const RESTORE_EVAL_TIMEOUT_MS = 5_000;

/**
 * Rebuilds a namespace from {@linkcode takeSnapshot}'s body in a fresh kernel (after the
 * prelude). What cannot be rebuilt is listed, never fatal.
 *
 * @throws {TypeError} When the body is not a snapshot this kernel can read.
 */
export async function restoreSnapshot(
  bytes: Uint8Array,
  repl: Repl,
  namespace: Namespace,
  loader: ModuleLoader,
): Promise<RestoreReport> {
  const parts = bodyParts(bytes);
  // A binary header names its layout; the JSON inside, what its data may hold.
  const known = parts.format === undefined || parts.format === BINARY_FORMAT;
  const body = (known ? JSON.parse(new TextDecoder().decode(parts.json)) : {}) as SnapshotBody;
  const format = known ? body?.format : parts.format;
  if (!known || !READABLE_FORMATS.includes(body?.format)) {
    throw new TypeError(
      `Cannot restore snapshot format ${format}; expected ${READABLE_FORMATS.join(" or ")}`,
    );
  }
  // Restored bindings were declared without the compiler's prefix: record their kinds here so
  // the next snapshot declares them the same way again.
  for (const item of body.imports) repl.kinds.set(item.name, item.kind);
  for (const item of body.declarations) repl.kinds.set(item.name, item.kind);
  // Keys, not entries: no array per variable (a thousand cost a fresh kernel 0.5 ms).
  for (const name of Object.keys(body.kinds)) repl.kinds.set(name, body.kinds[name]!);

  const restored: string[] = [];
  const skipped: SkippedItem[] = [];
  const slot = {} as Record<string, unknown>;
  /** The declarations' lexical bindings, as closures the one script handed back. */
  const handedBack = new Map<string, () => unknown>();
  (globalThis as Record<symbol, unknown>)[SLOT] = slot;
  try {
    for (const imp of body.imports) {
      try {
        const module = await loader.bind(imp.specifier, [[imp.name, imp.export]], imp.options);
        slot[imp.name] = imp.export === "*" ? module : module[imp.export];
        // One turn of the event loop before the inspector evaluates again: an evaluation right
        // after an import (linkedom's, say) made Deno 2.9.6 abort the process in a third of
        // such restores ("Invoke in DisallowJavascriptExecutionScope"), none in 180 with it.
        await new Promise((resolve) => setTimeout(resolve, 0));
        await bind(repl, imp.name, imp.kind);
        restored.push(imp.name);
      } catch (error) {
        skipped.push({
          path: imp.name,
          reason: `import of ${imp.specifier} failed: ${message(error)}`,
        });
      }
    }
    // From here on, user code runs again (class bodies, static blocks, functions restored
    // from their source): what it schedules is held back, not started (restore_hold.ts).
    const hold = holdScheduling<Declaration>();
    let lexical: Lexical;
    try {
      lexical = await restoreRest(hold);
    } finally {
      skipped.push(...describeHeld(hold.release()));
    }
    // Binding them runs no user code: outside the hold, whose stand-ins slow every promise
    // (a patched `then`).
    await bindLexical(lexical);
  } finally {
    delete (globalThis as Record<symbol, unknown>)[SLOT];
  }
  return { restored, skipped };

  /**
   * Declarations, then values; `hold` is told which declaration runs. Returns the `let` and
   * `const` variables left in the slot for {@linkcode bindLexical}.
   */
  async function restoreRest(hold: Hold<Declaration>): Promise<Lexical> {
    let pending = body.declarations;
    // Usually all declarations evaluate as one script. If one fails (a class extending one
    // declared later, say), they are evaluated one by one, retried until no more succeed;
    // redeclaring those the batch already ran is allowed, each with its own keyword. Each
    // evaluation is bounded (class bodies and static blocks run again): one that does not end
    // is stopped, reported and not retried.
    const bounded = { timeoutMs: RESTORE_EVAL_TIMEOUT_MS };
    if (pending.length > 1) {
      // Which declaration a line of the one script belongs to.
      const starts: [number, Declaration][] = [];
      let line = 1;
      for (const d of pending) {
        starts.push([line, d]);
        line += declarationCode(d).split("\n").length;
      }
      hold.within = (at) => starts.findLast(([first]) => first <= at)?.[1];
      // The script ends by handing back its lexical bindings (a class, say) as closures, which
      // spares reading them through the inspector afterwards, and with no completion value:
      // the last function's would be fetched, formatted and released, three inspector calls.
      const lexicalNames = pending.filter((d) => isLexicalKind(d.kind)).map((d) => d.name);
      const handBack = `${SLOT_EXPR}[${JSON.stringify(DECLARED)}] = [${
        lexicalNames.map((n) => `() => ${n}`).join(",")
      }]; void 0;`;
      delete slot[DECLARED];
      const all = await repl.run(
        `${pending.map(declarationCode).join("\n")}\n${handBack}`,
        "restore",
        bounded,
      );
      const thunks = slot[DECLARED] as (() => unknown)[] | undefined;
      delete slot[DECLARED];
      if (all.status === "ok") {
        restored.push(...pending.map((d) => d.name));
        if (thunks?.length === lexicalNames.length) {
          lexicalNames.forEach((name, i) => handedBack.set(name, thunks[i]!));
        }
        pending = [];
      }
    }
    while (pending.length > 0) {
      const failed: [Declaration, unknown][] = [];
      for (const d of pending) {
        hold.within = () => d;
        const outcome = await repl.run(declarationCode(d), "restore", bounded);
        if (outcome.status === "ok") restored.push(d.name);
        else if (outcome.status === "timeout" || outcome.status === "cancelled") {
          skipped.push({
            path: d.name,
            reason: `its declaration ran for more than ${RESTORE_EVAL_TIMEOUT_MS / 1000} s ` +
              "when restored (a class body or static block that does not end); it was stopped",
          });
        } else failed.push([d, outcome.error?.message]);
      }
      if (failed.length === pending.length) {
        for (const [d, error] of failed) {
          skipped.push({ path: d.name, reason: `its source no longer evaluates: ${error}` });
        }
        break;
      }
      pending = failed.map(([d]) => d);
    }
    hold.within = undefined;
    const defined = new Map<string, unknown>();
    const unread: string[] = [];
    for (const { name, kind } of body.declarations) {
      const thunk = handedBack.get(name);
      if (thunk) {
        try {
          defined.set(name, thunk());
        } catch {
          // Not initialized after all: read as the others are, which says so.
          unread.push(name);
        }
      } else if (!isLexicalKind(kind) && Object.hasOwn(globalThis, name)) {
        defined.set(name, (globalThis as Record<string, unknown>)[name]);
      } else unread.push(name);
    }
    if (unread.length > 0) {
      for (const [name, read] of await namespace.readAll(unread)) {
        if (read.ok) defined.set(name, read.value);
      }
    }
    const imported = new Map<string, unknown>();
    const failures = new Map<string, string>();
    for (const [label, ref] of Object.entries(body.classes ?? {})) {
      try {
        imported.set(label, await resolveExport(loader, ref, "value"));
      } catch (error) {
        failures.set(label, message(error));
      }
    }
    const classes: ClassTable = {
      nameOf: () => undefined,
      // A class inside a value runs its static blocks when evaluated again, and a method's
      // computed key its expression: those are bounded like the declarations. Other sources
      // run nothing when evaluated.
      evaluate: (expression) => {
        if (!/^\(\s*(class\b|\[)|getOwnPropertyDescriptors\(\{\s*\[/.test(expression)) {
          return (0, eval)(expression);
        }
        delete slot[EVALUATED];
        repl.runNow(
          `try { ${SLOT_EXPR}[${JSON.stringify(EVALUATED)}] = { value: ${expression} }; } ` +
            `catch (e) { ${SLOT_EXPR}[${JSON.stringify(EVALUATED)}] = { error: e }; }`,
          RESTORE_EVAL_TIMEOUT_MS,
        );
        const done = slot[EVALUATED] as { value?: unknown; error?: unknown } | undefined;
        delete slot[EVALUATED];
        if (!done) {
          throw new Error(
            `its source ran for more than ${RESTORE_EVAL_TIMEOUT_MS / 1000} s when evaluated ` +
              "again (a class's static block that does not end, say); it was stopped",
          );
        }
        if ("error" in done) throw done.error;
        return done.value;
      },
      byName: (name) => {
        const failure = failures.get(name);
        if (failure) throw new TypeError(`its class ${name} could not be imported: ${failure}`);
        const value = imported.get(name) ?? defined.get(name);
        return typeof value === "function" && value.prototype ? value as never : undefined;
      },
      exported: (name) => {
        const failure = failures.get(name);
        if (failure) throw new TypeError(`${name} could not be imported: ${failure}`);
        if (!imported.has(name)) throw new TypeError(`${name} is not among the saved imports`);
        return imported.get(name);
      },
    };
    const decoded = decodeRecord(body.data, classes, parts.segments);
    const values = decoded.values;
    skipped.push(...decoded.skipped.map((item) => ({ ...item, path: shownPath(item.path) })));
    // One pass over the variables: a function's own properties go back on it, a `var` onto the
    // global object, a `let` or `const` into the slot its statement below reads.
    const lexical: Lexical = { let: [], const: [] };
    const global = globalThis as Record<string, unknown>;
    for (const name of Object.keys(values)) {
      const value = values[name];
      if (name.startsWith(PROPS)) {
        const owner = name.slice(PROPS.length);
        skipped.push(...setOwnProps(defined.get(owner), owner, value as Record<string, unknown>));
        continue;
      }
      const kind = body.kinds[name];
      if (kind === "let" || kind === "const") {
        slot[name] = value;
        lexical[kind].push(name);
      } else {
        global[name] = value;
        restored.push(name);
      }
    }
    return lexical;
  }

  /** Declares the variables `restoreRest` left in the slot, under their saved keywords. */
  async function bindLexical(lexical: Lexical): Promise<void> {
    // Both kinds in one evaluation: each costs a round trip through the inspector.
    const statements = (["let", "const"] as const).filter((k) => lexical[k].length > 0).map(
      (kind) =>
        `${kind} ${
          lexical[kind].map((n) => `${n} = ${SLOT_EXPR}[${JSON.stringify(n)}]`).join(", ")
        };`,
    );
    const together = statements.length > 0
      ? await repl.run(statements.join("\n"), "restore")
      : undefined;
    for (const kind of ["let", "const"] as const) {
      const names = lexical[kind];
      if (names.length === 0) continue;
      if (together?.status === "ok") {
        restored.push(...names);
        continue;
      }
      // One name that cannot be bound (it clashes with the prelude's, say) must not cost the
      // others: bind them one by one.
      for (const name of names) {
        try {
          await bind(repl, name, kind);
          restored.push(name);
        } catch (error) {
          skipped.push({ path: name, reason: `could not be bound again: ${message(error)}` });
        }
      }
    }
  }
}

/** The `let` and `const` variables a restore binds, by keyword. */
type Lexical = Record<"let" | "const", string[]>;

/**
 * The key under which a saved function's or class's own properties travel among the values; no
 * variable can be named so.
 */
const PROPS = "\0props:";

/** A path as a report shows it: `Counter.count` for a class's static field. */
function shownPath(path: string): string {
  return path.startsWith(PROPS) ? path.slice(PROPS.length) : path;
}

/**
 * The own enumerable properties of function `fn` (variable `name`, made by `source`), as a record
 * to save. A function in a static field the class's source declares is left out: the source makes
 * it again, bound to the new class.
 */
function ownProps(
  fn: object,
  name: string,
  source: string,
  skipped: SkippedItem[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const isClass = /^class\b/.test(source);
  for (const key of Object.keys(fn)) {
    try {
      const value = (fn as Record<string, unknown>)[key];
      if (typeof value === "function" && isClass && declaresStatic(source, key)) continue;
      out[key] = value;
    } catch (error) {
      skipped.push({ path: `${name}.${key}`, reason: unreadable(error) });
    }
  }
  return out;
}

/** Whether a class's source declares static field `key` (`static key =`, `static key;`); pure. */
function declaresStatic(source: string, key: string): boolean {
  const name = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`\\bstatic\\s+${name}\\s*[=;}\\n]`).test(source);
}

/**
 * Gives the function or class `target` (variable `name`, made again from its source) the own
 * properties it had when saved. Defined, not assigned: no static setter runs.
 */
function setOwnProps(
  target: unknown,
  name: string,
  props: Record<string, unknown>,
): SkippedItem[] {
  // Not made again: its declaration's failure is reported already.
  if (typeof target !== "function") return [];
  const skipped: SkippedItem[] = [];
  for (const [key, value] of Object.entries(props)) {
    try {
      Object.defineProperty(target, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } catch (error) {
      skipped.push({ path: `${name}.${key}`, reason: `could not be set again: ${message(error)}` });
    }
  }
  return skipped;
}

/** Names what restore-time code scheduled and was not started, once per owner and kind. */
function describeHeld(held: HeldWork<Declaration>[]): SkippedItem[] {
  const out = new Map<string, SkippedItem>();
  for (const { what, owner, fns } of held) {
    const who = !owner
      ? "code run during the restore"
      : fns.some((fn) => /<static_initializer>$/.test(fn))
      ? `class ${owner.name}'s static block`
      : `the declaration of ${owner.name}`;
    const path = owner?.name ?? "(restore)";
    const key = `${path}\0${what}`;
    if (out.has(key)) continue;
    out.set(key, {
      path,
      reason: `${who} scheduled ${what} during restore; not started (timers and pending ` +
        "callbacks are not part of a snapshot)",
    });
  }
  return [...out.values()];
}

async function isStillImported(
  loader: ModuleLoader,
  record: ImportRecord,
  value: unknown,
): Promise<boolean> {
  try {
    const module = await loader.import(record.specifier, record.options);
    return record.export === "*" ? value === module : value === module[record.export];
  } catch {
    return false;
  }
}

/** The import a module namespace came from (`const aq = await import("npm:arquero@7")`). */
async function dynamicImportOf(
  loader: ModuleLoader,
  value: unknown,
): Promise<ImportRecord | undefined> {
  if (!isModule(value)) return undefined;
  for (const { specifier, options } of [...loader.imported.values()]) {
    const record: ImportRecord = { specifier, export: "*", ...(options && { options }) };
    if (await isStillImported(loader, record, value)) return record;
  }
  return undefined;
}

/** Whether `value` is a module namespace object. */
function isModule(value: unknown): boolean {
  return Object.prototype.toString.call(value) === "[object Module]";
}

/** Re-binds `name` to `slot[name]` with the declaration kind it had. */
async function bind(repl: Repl, name: string, kind: DeclarationKind) {
  const value = `${SLOT_EXPR}[${JSON.stringify(name)}]`;
  const code = kind === "let" || kind === "const"
    ? `${kind} ${name} = ${value};`
    : `globalThis[${JSON.stringify(name)}] = ${value};`;
  const outcome = await repl.run(code, "restore");
  if (outcome.status !== "ok") throw new Error(outcome.error?.message);
}

/** {@linkcode declarationCode}'s answers: a restore asks twice per declaration. */
const codeOf = new WeakMap<Declaration, string>();

/** The code that defines a saved function or class again under its name. */
function declarationCode(d: Declaration): string {
  let code = codeOf.get(d);
  if (code === undefined) codeOf.set(d, code = codeFor(d));
  return code;
}

function codeFor(d: Declaration): string {
  // Only the kinds that may keep their source as it is need the name matched.
  if (d.kind !== "class" && d.kind !== "function") return boundExpression(d);
  const name = d.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const isClass = new RegExp(`^class\\s+${name}(\\s|\\{)`).test(d.source);
  const isFunction = new RegExp(`^(async\\s+)?function\\s*\\*?\\s*${name}\\s*\\(`).test(d.source);
  if (d.kind === "class" && isClass) return d.source;
  if (d.kind === "function" && isFunction) return d.source;
  return boundExpression(d);
}

function boundExpression(d: Declaration): string {
  const value = functionExpression(d.source);
  if (d.kind === "let" || d.kind === "const") return `${d.kind} ${d.name} = ${value};`;
  return `globalThis[${JSON.stringify(d.name)}] = ${value};`;
}

/**
 * What the encoded functions captured and the instances hold in `#private` fields, in words.
 * A variable already named in `known` is not looked into again: one reason names it as lost,
 * and a library object (a vega View) holds thousands of functions, each a few inspector calls.
 */
async function probeEncoded(
  probe: StateProbe,
  encoded: { functions: EncodedItem[]; instances: EncodedItem[]; unlisted: Unlisted },
  known: SkippedItem[],
): Promise<SkippedItem[]> {
  const named = new Set(known.map((item) => variableOf(item.path)));
  const out: SkippedItem[] = [];
  const look = async (
    items: EncodedItem[],
    why: (value: unknown) => Promise<string | undefined>,
  ) => {
    for (const item of items) {
      const variable = item.variable;
      if (named.has(variable)) continue;
      const reason = await why(item.value);
      if (reason === undefined) continue;
      out.push({ path: item.path, reason });
      named.add(variable);
    }
  };
  // Looked into together (see `StateProbe.capturedAll`), but reported as one at a time would.
  const fns = encoded.functions.filter((f) => !named.has(f.variable));
  const captures = new Map<unknown, string[]>();
  (await probe.capturedAll(fns.map((f) => f.value))).forEach((c, i) => {
    captures.set(fns[i]!.value, c);
  });
  await look(encoded.functions, (fn) => {
    const captured = captures.get(fn) ?? [];
    return Promise.resolve(
      captured.length > 0
        ? `its source comes back without what it closes over (${closedOver(captured)}), so ` +
          "calling it fails"
        : undefined,
    );
  });
  // Filtered first: an await per instance that cannot hold any adds up over thousands.
  const mayHold = encoded.instances.filter((item) => probe.mayHavePrivate(item.value));
  await look(mayHold, async (instance) => {
    const fields = await probe.privateFields(instance);
    return fields.length > 0
      ? `restored without its private fields (${fields.slice(0, 5).join(", ")})`
      : undefined;
  });
  const { count, first } = encoded.unlisted;
  if (count > 0 && first) {
    out.push({
      path: first,
      reason: `it and ${(count - 1).toLocaleString("en-US")} more functions and instances ` +
        `inside variables were saved without checking for captured variables or private fields`,
      unchecked: true,
    });
  }
  return out;
}

/** The variable a display path starts in (`view` of `view._runtime[0]`). */
function variableOf(path: string): string {
  return /^[^.[]*/.exec(path)![0];
}

function closureReason(captured: string[]): string {
  return `it closes over local variables (${closedOver(captured)}) that a snapshot cannot hold`;
}

function closedOver(captured: string[]): string {
  return captured.slice(0, 5).join(", ") + (captured.length > 5 ? ", …" : "");
}

function isObject(v: unknown): v is object {
  return typeof v === "object" && v !== null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
