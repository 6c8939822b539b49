/**
 * Values of data libraries whose state lives partly in closures, carried as what rebuilds them.
 *
 * An arquero table that is ordered, filtered or grouped keeps its comparator and its group keys'
 * accessors as functions made from the expressions of `orderby`, `filter` and `groupby`: a
 * snapshot can hold their source but not what they close over, so such a table came back unable
 * to list its rows. It is carried instead as its reified table (the rows it shows, in their
 * order: a plain table, saved like any other, in the table's place) and the names of its groups,
 * grouped again at restore. It then reports `isOrdered()` and `isFiltered()` false, and shows
 * the same rows.
 *
 * d3's InternMap and InternSet (from `d3.group`, `d3.rollup`, `d3.index`; package internmap)
 * find keys by value (`valueOf`: two Dates of one day are one key), through an index the
 * collection keeps in non-enumerable properties. Saved as a Map or Set with their class's name;
 * restored as one, given the class's prototype and its index made again from its keys. One made
 * with a key function of its own is not: it is named, restored as the plain built-in.
 *
 * @module
 */

/** Beside an instance's own properties in a snapshot: the group names to group it by again. */
export const REGROUP_KEY = "\0regroup";

/** What a save carries in a library value's place: a value to save, and its group names. */
export interface LibraryRecipe {
  value: object;
  regroup?: string[];
}

/** An arquero table as far as this module uses it (arquero 5 to 8 have these). */
interface ArqueroTable {
  _group: unknown;
  isOrdered(): boolean;
  isFiltered(): boolean;
  isGrouped(): boolean;
  groups(): { names: string[] } | null;
  ungroup(): ArqueroTable;
  reify(): ArqueroTable;
  columnNames(): string[];
  groupby(...names: string[]): ArqueroTable;
}

function isArqueroTable(o: unknown): o is ArqueroTable {
  const t = o as Record<string, unknown>;
  // `_group` first: the one lookup most objects of a save fail at.
  return typeof t === "object" && t !== null && "_group" in t && typeof t.reify === "function" &&
    typeof t.isOrdered === "function" && typeof t.isFiltered === "function" &&
    typeof t.isGrouped === "function" && typeof t.ungroup === "function" &&
    typeof t.groupby === "function" && typeof t.columnNames === "function";
}

/**
 * What to carry in the place of `o`, when it is a library value this module rebuilds and it
 * needs rebuilding (an arquero table that is ordered, filtered or grouped by its columns);
 * `undefined` otherwise, and when asking the library throws.
 */
export function libraryRecipe(o: object): LibraryRecipe | undefined {
  if (!isArqueroTable(o)) return undefined;
  try {
    if (!o.isOrdered() && !o.isFiltered() && !o.isGrouped()) return undefined;
    const names = o.isGrouped() ? [...(o.groups()?.names ?? [])] : [];
    const value = o.ungroup().reify();
    // Grouped by an expression (a derived key): its names are no columns to group by again.
    const columns = new Set(value.columnNames());
    if (!names.every((name) => columns.has(name))) return undefined;
    return names.length > 0 ? { value, regroup: names } : { value };
  } catch {
    return undefined;
  }
}

/**
 * Groups a restored arquero table by `names` again, in place (shared references to it stay
 * valid), once its columns are all decoded.
 *
 * @throws {TypeError} When `table` is not an arquero table (a damaged snapshot), or arquero
 *   refuses the names.
 */
export function regroup(table: unknown, names: unknown): void {
  if (!isArqueroTable(table) || !Array.isArray(names)) {
    throw new TypeError("Cannot group a restored value again: it is not an arquero table");
  }
  table._group = table.groupby(...names as string[])._group;
}

/** An InternMap or InternSet as its own properties show it (internmap 2). */
interface InternCollection {
  _intern: Map<unknown, unknown>;
  _key: (value: unknown) => unknown;
}

/** Whether `o` is d3's InternMap or InternSet with its default key (`valueOf`). */
export function isInternCollection(o: object): boolean {
  const name = Object.getPrototypeOf(o)?.constructor?.name;
  const c = o as Partial<InternCollection>;
  return (name === "InternMap" || name === "InternSet") && c._intern instanceof Map &&
    typeof c._key === "function" && c._key.name === "keyof";
}

/**
 * Makes a restored Map or Set the InternMap or InternSet that `made` (a new empty one) is:
 * its prototype, key function and an index of its keys, as the class's constructor makes them.
 */
export function internInPlace(collection: Map<unknown, unknown> | Set<unknown>, made: object) {
  const { _key: key } = made as InternCollection;
  if (typeof key !== "function") throw new TypeError("Not an InternMap or InternSet");
  const index = new Map<unknown, unknown>();
  for (const k of collection.keys()) index.set(key(k), k);
  Object.setPrototypeOf(collection, Object.getPrototypeOf(made));
  Object.defineProperties(collection, { _intern: { value: index }, _key: { value: key } });
}
