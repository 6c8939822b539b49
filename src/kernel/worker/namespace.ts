/**
 * The user's variables: which names a cell defined, and what each holds.
 *
 * @module
 */
import type { MemberSummary, VariableDetail, VariableSummary } from "../protocol.ts";
import { shownSource } from "./shown_source.ts";
import { isNativeFunction } from "./function_source.ts";
import { ownNames } from "./own_names.ts";
import { approximateBytes, preview, render, typeName } from "./render.ts";
import type { Repl } from "./repl.ts";
import { tableMarkdown, tableView } from "./table.ts";

/** Own keys listed by `inspect_variable` before it stops. */
const MAX_MEMBERS = 200;

/**
 * Names the kernel or the runtime defines after start, never listed as user variables: `_` and
 * `_error` (unless a cell declared one: lodash is imported as `_`), and the global Deno's Node
 * compatibility layer adds when a cell first loads npm code.
 */
const KERNEL_NAMES = new Set(["_", "_error", "nodeBootstrap"]);

/**
 * Lists and inspects the variables defined since the baseline (globals and the prelude). A
 * global that an imported module created is not listed (nor saved) unless a cell declared it.
 */
export class Namespace {
  #repl: Repl;
  #baseline = new Set<string>();
  #baselineLexical = new Set<string>();
  #libraryGlobals: ReadonlySet<string>;

  /**
   * @param repl The REPL whose global scope holds the variables.
   * @param libraryGlobals Globals imported modules created (`ModuleLoader.libraryGlobals`).
   */
  constructor(repl: Repl, libraryGlobals: ReadonlySet<string> = new Set()) {
    this.#repl = repl;
    this.#libraryGlobals = libraryGlobals;
  }

  /** Records the names that exist now (built-ins, the prelude's) so they are not listed. */
  async markBaseline(): Promise<void> {
    this.#baselineLexical = new Set(await this.#repl.lexicalNames());
    this.#baseline = new Set([...Object.getOwnPropertyNames(globalThis), ...this.#baselineLexical]);
  }

  /**
   * Names of user variables, in definition order where the engine keeps it. A cell's `let`,
   * `const` or `class` counts even when it shadows a global of the same name (`display`,
   * `name`): the global scope's lexical bindings are all the prelude's or the cells'.
   *
   * @param known The global lexical scope's names, when the caller has just listed them (an
   * inspector call less).
   */
  async names(known?: string[]): Promise<string[]> {
    const lexical = known ?? await this.#repl.lexicalNames();
    const names = [...lexical, ...Object.keys(globalThis)];
    const declared = new Set(lexical.filter((n) => !this.#baselineLexical.has(n)));
    return [...new Set(names)].filter((n) =>
      (declared.has(n) || !this.#baseline.has(n)) &&
      // A cell's own `_` (lodash's import name) is the user's, the REPL's last value is not.
      (!KERNEL_NAMES.has(n) || this.#repl.kinds.has(n)) &&
      !(this.#libraryGlobals.has(n) && !this.#repl.kinds.has(n))
    );
  }

  /** One summary per user variable. */
  async list(): Promise<VariableSummary[]> {
    const out: VariableSummary[] = [];
    const names = await this.names();
    const reads = await this.readAll(names);
    for (const name of names) {
      const read = reads.get(name)!;
      out.push(
        read.ok
          ? {
            name,
            type: typeName(read.value),
            preview: preview(read.value),
            approxBytes: approximateBytes(read.value),
          }
          : { name, type: "uninitialized", preview: "<uninitialized>", approxBytes: 0 },
      );
    }
    return out;
  }

  /**
   * Everything about one variable or a side-effect-free path into it (`point.x`, `rows[0]`).
   * A table (an array of records, a `Map`, a data library's table) is previewed by its shape
   * and first rows, and an array's indices are not listed as members: its preview shows them.
   *
   * @throws {ReferenceError} When nothing by that name exists or reading it would have effects.
   */
  async inspect(path: string, depth: number): Promise<VariableDetail> {
    const read = await peekBoxed(this.#repl, path);
    if (!read.ok) {
      const base = /^[^.[]+/.exec(path)?.[0];
      if (base !== undefined && base !== path && (await peekBoxed(this.#repl, base)).ok) {
        throw new ReferenceError(
          `"${path}" cannot be read: ${base} exists, but not that path into it (an index past ` +
            "its end, a missing key) or reading it would run code with side effects; inspect " +
            `${base} to see its shape`,
        );
      }
      throw new ReferenceError(
        `No variable "${path}" in this kernel (or reading it would run code with side effects); ` +
          `list_variables shows what exists`,
      );
    }
    const value = read.value;
    const detail: VariableDetail = {
      name: path,
      type: typeName(value),
      preview: tablePreview(value) ?? render(value, depth),
      members: members(value),
    };
    if (typeof value === "function") {
      detail.source = shownSource(value);
    }
    return detail;
  }

  /** Reads a variable by name: `ok: false` when it is uninitialized or does not exist. */
  async read(name: string): Promise<{ ok: boolean; value?: unknown }> {
    return (await this.readAll([name])).get(name)!;
  }

  /**
   * Reads variables by name, the global lexical ones in one evaluation (see
   * `Repl.readBindings`): `ok: false` for one uninitialized or gone.
   */
  async readAll(names: string[]): Promise<Map<string, { ok: boolean; value?: unknown }>> {
    const out = new Map<string, { ok: boolean; value?: unknown }>();
    const lexical: string[] = [];
    for (const name of names) {
      const kind = this.#repl.kinds.get(name);
      // A cell's `const display` shadows the global property of that name.
      const isLexical = kind === "let" || kind === "const" || kind === "class";
      if (!isLexical && Object.hasOwn(globalThis, name)) {
        out.set(name, { ok: true, value: (globalThis as Record<string, unknown>)[name] });
      } else lexical.push(name);
    }
    for (const [name, read] of await this.#repl.readBindings(lexical)) out.set(name, read);
    return out;
  }
}

/**
 * `repl.peek(path)`, read through an array around the value: the inspector sends a primitive's
 * value as JSON, which for a string of 60 million characters is a copy of it twice over, while
 * an object comes back by reference.
 */
export async function peekBoxed(
  repl: Repl,
  path: string,
): Promise<{ ok: boolean; value?: unknown }> {
  const read = await repl.peek(`[${path}]`);
  return read.ok ? { ok: true, value: (read.value as unknown[])[0] } : read;
}

function tablePreview(value: unknown): string | undefined {
  const view = tableView(value);
  return view && tableMarkdown(view);
}

/**
 * Own data keys first, then methods along the prototype chain (built-in prototypes excluded).
 * An array's, typed array's or string's indices are left out.
 */
function members(value: unknown): MemberSummary[] {
  if (value === null || value === undefined) return [];
  const out: MemberSummary[] = [];
  const target = Object(value);
  const skip = typeof value === "function" ? new Set(["length", "name", "prototype"]) : new Set();
  const indexed = Array.isArray(value) || ArrayBuffer.isView(value);
  for (const key of ownNames(value)) {
    if (out.length >= MAX_MEMBERS) break;
    if (skip.has(key) || (indexed && (key === "length" || isIndex(key)))) continue;
    out.push(member(key, Object.getOwnPropertyDescriptor(target, key)));
  }
  const start = typeof value === "function" ? value.prototype : Object.getPrototypeOf(target);
  for (
    let proto = start;
    proto && !isBuiltinPrototype(proto);
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === "constructor" || out.some((m) => m.name === key)) continue;
      out.push(member(key, Object.getOwnPropertyDescriptor(proto, key)));
    }
  }
  return out;
}

function isIndex(key: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(key);
}

function member(name: string, d: PropertyDescriptor | undefined): MemberSummary {
  if (d && !("value" in d)) return { name, type: "accessor", preview: "[getter/setter]" };
  return { name, type: typeName(d?.value), preview: preview(d?.value) };
}

function isBuiltinPrototype(proto: object): boolean {
  const ctor = (proto as { constructor?: unknown }).constructor;
  return typeof ctor === "function" && globalThis[ctor.name as keyof typeof globalThis] === ctor &&
    isNativeFunction(ctor);
}
