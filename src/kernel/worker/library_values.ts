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
  return typeof t === "object" && t !== null && typeof t.reify === "function" &&
    typeof t.isOrdered === "function" && typeof t.isFiltered === "function" &&
    typeof t.isGrouped === "function" && typeof t.ungroup === "function" &&
    typeof t.groupby === "function" && typeof t.columnNames === "function" && "_group" in t;
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
