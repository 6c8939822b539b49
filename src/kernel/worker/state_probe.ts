/**
 * What the inspector sees of a value and JavaScript cannot, so a snapshot can say what does not
 * come back: the local variables a function closes over (a function is saved by its source,
 * which does not hold them) and an object's `#private` fields.
 *
 * V8 lists a function's scope chain in the inspector's internal `[[Scopes]]` property. Global
 * and Script scopes hold the session's own variables, which a snapshot restores. Any other
 * scope (a Closure, a Block, a Module) holds captured locals, except the Block a named class or
 * function expression makes for its own name, which its source declares again.
 *
 * @module
 */
import { userSource } from "./function_source.ts";
import type { Repl } from "./repl.ts";

interface RemoteObject {
  objectId?: string;
  description?: string;
  subtype?: string;
}

interface Property {
  name: string;
  value?: RemoteObject;
  enumerable?: boolean;
  symbol?: RemoteObject;
}

interface Properties {
  result?: Property[];
  internalProperties?: Property[];
  privateProperties?: Property[];
}

const PROBE = Symbol.for("mcp-kernel-host.probe");
/**
 * What each function was found to capture, kept across saves: a function's scopes are fixed
 * when it is made, and a kernel saves the same functions again and again (200 of them took
 * 8 ms to look into at every save).
 */
const capturedBy = new WeakMap<object, string[]>();
const GROUP = "closures";
const RESTORED_SCOPES = /^(Global|Script)\b/;

/** Looks into values through the Worker's inspector session. */
export class StateProbe {
  #repl: Repl;
  /** Per prototype: whether its instances may hold private fields. */
  #privateByProto = new WeakMap<object, boolean>();

  /** @param repl The REPL whose inspector session looks into the functions. */
  constructor(repl: Repl) {
    this.#repl = repl;
  }

  /**
   * Names of the local variables `fn` closes over (its source does not bring them back); empty
   * when it captures none, or when `fn` cannot be looked into.
   */
  async captured(fn: unknown): Promise<string[]> {
    return (await this.capturedAll([fn]))[0]!;
  }

  /**
   * {@linkcode captured} for many functions at once: the inspector calls for all of them are
   * sent together, each step's before the next, rather than a few round trips one function
   * after another (200 functions took 12 ms that way). One entry per item, in order; empty for
   * an item that is not a function or cannot be looked into.
   */
  async capturedAll(fns: unknown[]): Promise<string[][]> {
    const out: string[][] = fns.map((fn) =>
      typeof fn === "function" ? capturedBy.get(fn)?.slice() ?? [] : []
    );
    const looked = fns.flatMap((fn, i) =>
      typeof fn === "function" && !capturedBy.has(fn) ? [i] : []
    );
    if (looked.length === 0) return out;
    return await this.#look(looked.map((i) => fns[i]), out, async (list) => {
      const items = list.result ?? [];
      const ids = new Map(items.map((p) => [p.name, p.value?.objectId]));
      await Promise.all(looked.map(async (at, k) => {
        const fn = fns[at] as { name: string };
        try {
          const properties = await this.#properties(ids.get(String(k)));
          const scopes = properties.internalProperties?.find((p) => p.name === "[[Scopes]]")
            ?.value;
          const closures = ((await this.#properties(scopes?.objectId)).result ?? [])
            .filter((scope) => !RESTORED_SCOPES.test(scope.value?.description ?? ""));
          const lists = await Promise.all(
            closures.map(async (scope) =>
              ((await this.#properties(scope.value?.objectId)).result ?? []).map((p) => p.name)
            ),
          );
          out[at] = lists.flatMap((variables) =>
            variables.length === 1 && variables[0] === fn.name ? [] : variables
          );
          capturedBy.set(fn, out[at]!.slice());
        } catch {
          out[at] = [];
        }
      }));
      return out;
    });
  }

  /**
   * For each array, whether it has enumerable own keys that are not indices (d3's `columns`),
   * as the inspector lists them without the indices: `Object.keys` of a million-element array
   * makes a million strings (35 ms), while this list takes under a millisecond. `undefined`
   * for an item that could not be looked into.
   */
  async namedKeysAll(arrays: unknown[][]): Promise<(boolean | undefined)[]> {
    const out: (boolean | undefined)[] = arrays.map(() => undefined);
    if (arrays.length === 0) return out;
    return await this.#look(arrays, out, async (list) => {
      const items = list.result ?? [];
      // A Proxy is left to the caller: its traps decide its keys.
      const ids = new Map(
        items.map((p) => [p.name, p.value?.subtype === "array" ? p.value.objectId : undefined]),
      );
      await Promise.all(arrays.map(async (_, k) => {
        const objectId = ids.get(String(k));
        if (!objectId) return;
        try {
          const { result } = await this.#repl.post<Properties>("Runtime.getProperties", {
            objectId,
            ownProperties: true,
            nonIndexedPropertiesOnly: true,
          });
          if (!result) return;
          out[k] = result.some((p) => p.enumerable && p.symbol === undefined);
        } catch {
          // Left undefined: the caller lists the keys itself.
        }
      }));
      return out;
    });
  }

  /** Names of `object`'s own `#private` fields (`#count`); empty when it has none. */
  privateFields(object: unknown): Promise<string[]> {
    if (!this.mayHavePrivate(object)) return Promise.resolve([]);
    return this.#look(
      object,
      [],
      (properties) => Promise.resolve((properties.privateProperties ?? []).map((p) => p.name)),
    );
  }

  /**
   * Whether `object` may hold `#private` fields: only an instance of a class whose source has a
   * `#` can (a save may hold thousands of instances, and the others are not looked into).
   */
  mayHavePrivate(object: unknown): boolean {
    if (typeof object !== "object" || object === null) return false;
    return this.#mayHavePrivate(Object.getPrototypeOf(object));
  }

  /** Whether a class along `proto`'s chain has `#` in its source (built-ins have none). */
  #mayHavePrivate(proto: object | null): boolean {
    if (proto === null || proto === Object.prototype) return false;
    let known = this.#privateByProto.get(proto);
    if (known === undefined) {
      const ctor = (proto as { constructor?: unknown }).constructor;
      const source = typeof ctor === "function" ? userSource(ctor) : undefined;
      known = (source !== undefined && source.includes("#")) ||
        this.#mayHavePrivate(Object.getPrototypeOf(proto));
      this.#privateByProto.set(proto, known);
    }
    return known;
  }

  /**
   * Hands `value`'s own properties, as the inspector lists them, to `read`; `fallback` when the
   * inspector fails. The remote objects stay valid until `read` is done.
   */
  async #look<T>(value: unknown, fallback: T, read: (p: Properties) => Promise<T>): Promise<T> {
    (globalThis as Record<symbol, unknown>)[PROBE] = value;
    try {
      const { result } = await this.#repl.post<{ result: RemoteObject }>("Runtime.evaluate", {
        expression: `globalThis[Symbol.for(${JSON.stringify(Symbol.keyFor(PROBE))})]`,
        objectGroup: GROUP,
      });
      return await read(await this.#properties(result.objectId));
    } catch {
      return fallback;
    } finally {
      delete (globalThis as Record<symbol, unknown>)[PROBE];
      await this.#repl.post("Runtime.releaseObjectGroup", { objectGroup: GROUP });
    }
  }

  async #properties(objectId: string | undefined): Promise<Properties> {
    if (!objectId) return {};
    return await this.#repl.post<Properties>("Runtime.getProperties", {
      objectId,
      ownProperties: true,
    });
  }
}
