/**
 * Paths into a tree a snapshot decode is building (`rows.3.name`, `byDay.0.1.2` for the third
 * item of the first Map entry's value), through the Maps and Sets it holds.
 *
 * A Map or Set is addressed by its entries as the snapshot wrote them, kept aside while the
 * decode runs: a Map made with two keys that shared references fill in later holds one entry
 * until they are (both keys were placeholders), and looking an entry up by index would otherwise
 * copy the whole Map each time (a Map of 20,000 shared rows took 50 s to restore). A reference
 * that fills in a value deep inside an entry sets it in place; one that replaces an entry's value
 * sets it in the Map; one that replaces a key or a Set's item marks the collection to be made
 * again, in its order, once, by {@linkcode DecodedTree.finish}.
 *
 * @module
 */

type Collection = Map<unknown, unknown> | Set<unknown>;

/** The Maps and Sets of one decode, and paths through them. */
export class DecodedTree {
  /**
   * The byte segments of the body being decoded (`snapshot_body.ts`), which its typed
   * arrays, ArrayBuffers and `NumberArray`s name by index.
   */
  readonly segments: readonly Uint8Array[];

  constructor(segments: readonly Uint8Array[] = []) {
    this.segments = segments;
  }

  /** The ArrayBuffer made of each segment that some value names as one. */
  #buffers = new Map<number, ArrayBuffer>();

  /**
   * The ArrayBuffer of segment `index`'s bytes (a copy), the same one each time it is asked:
   * the views a snapshot carries over one buffer come back over one.
   */
  bufferOf(index: number): ArrayBuffer {
    let buffer = this.#buffers.get(index);
    if (!buffer) {
      buffer = this.segments[index]!.slice().buffer as ArrayBuffer;
      this.#buffers.set(index, buffer);
    }
    return buffer;
  }

  /** Each collection's entries (`[key, value]`) or items, as written. */
  #rows = new Map<Collection, unknown[]>();
  /** Collections whose keys or items differ from their rows: made again at the end. */
  #stale = new Set<Collection>();
  /** What must wait until the tree is complete, and the variable it belongs to. */
  #steps: { variable: string; step: () => void }[] = [];

  /** A Map of `entries`, addressed by them from now on. */
  makeMap(entries: [unknown, unknown][]): Map<unknown, unknown> {
    const map = new Map(entries);
    this.#rows.set(map, entries);
    if (map.size !== entries.length) this.#stale.add(map);
    return map;
  }

  /** A Set of `items`, addressed by them from now on. */
  makeSet(items: unknown[]): Set<unknown> {
    const set = new Set(items);
    this.#rows.set(set, items);
    if (set.size !== items.length) this.#stale.add(set);
    return set;
  }

  /**
   * The value at `path` under `root`.
   *
   * @throws {TypeError} When the path names no entry of a Map.
   */
  get(root: unknown, path: string[]): unknown {
    let at = root;
    for (let i = 0; i < path.length; i++) {
      if (at instanceof Map) {
        at = this.#entry(at, path, i++)[Number(path[i])];
      } else if (at instanceof Set) {
        at = this.#rowsOf(at)[Number(path[i])];
      } else {
        at = (at as Record<string, unknown>)[path[i]!];
      }
    }
    return at;
  }

  /**
   * Puts `value` at `path` under `root`; returns the root (`value` itself for an empty path).
   *
   * @throws {TypeError} When the path names no entry of a Map.
   */
  set(root: unknown, path: string[], value: unknown): unknown {
    if (path.length === 0) return value;
    let at = root;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) {
      if (at instanceof Map) {
        const entry = this.#entry(at, path, i++);
        const which = Number(path[i]);
        if (i === last) {
          this.#replace(at, entry, which, value);
          return root;
        }
        at = entry[which];
      } else if (at instanceof Set) {
        at = this.#rowsOf(at)[Number(path[i])];
      } else {
        at = (at as Record<string, unknown>)[path[i]!];
      }
    }
    if (at instanceof Set) {
      this.#rowsOf(at)[Number(path[last])] = value;
      this.#stale.add(at);
    } else if (at instanceof Map) {
      throw new TypeError(`Snapshot path ${path.join(".")} ends inside a Map entry`);
    } else {
      (at as Record<string, unknown>)[path[last]!] = value;
    }
    return root;
  }

  /** The variable being decoded, which steps given to {@linkcode afterwards} belong to. */
  variable = "";

  /** Runs `step` in {@linkcode finish}, once every shared reference is in place. */
  afterwards(step: () => void): void {
    this.#steps.push({ variable: this.variable, step });
  }

  /**
   * Makes every collection whose keys or items were filled in again, in its order, then runs
   * the steps given to {@linkcode afterwards}; returns those that threw, by their variable.
   */
  finish(): { variable: string; error: unknown }[] {
    for (const collection of this.#stale) {
      const rows = this.#rows.get(collection)!;
      collection.clear();
      if (collection instanceof Map) {
        for (const [key, value] of rows as [unknown, unknown][]) collection.set(key, value);
      } else {
        for (const item of rows) collection.add(item);
      }
    }
    this.#stale.clear();
    this.#rows.clear();
    const failed: { variable: string; error: unknown }[] = [];
    for (const { variable, step } of this.#steps.splice(0)) {
      try {
        step();
      } catch (error) {
        failed.push({ variable, error });
      }
    }
    return failed;
  }

  #rowsOf(collection: Collection): unknown[] {
    let rows = this.#rows.get(collection);
    if (!rows) {
      // A collection this decode did not make (a module's, reached through a reference).
      rows = collection instanceof Map ? [...collection.entries()] : [...collection];
      this.#rows.set(collection, rows);
    }
    return rows;
  }

  #entry(map: Map<unknown, unknown>, path: string[], i: number): [unknown, unknown] {
    const entry = this.#rowsOf(map)[Number(path[i])] as [unknown, unknown] | undefined;
    if (!entry) throw new TypeError(`Snapshot path ${path.join(".")} names no Map entry`);
    return entry;
  }

  #replace(map: Map<unknown, unknown>, entry: [unknown, unknown], which: number, value: unknown) {
    if (which === 1 && !this.#stale.has(map)) map.set(entry[0], value);
    else this.#stale.add(map);
    entry[which] = value;
  }
}
