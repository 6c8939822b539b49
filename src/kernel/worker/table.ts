/**
 * Values seen as tables, for a model: an array of records, a `Map`, or a table of a data
 * library (anything with `toMarkdown()`, as arquero's tables have) becomes a shape line (rows ×
 * columns, with each column's name and type) and a markdown table of its first rows. A model
 * reads that within its budget where `Deno.inspect` of 100,000 records would not fit.
 *
 * @module
 */
import { preview } from "./render.ts";

/** Rows a table's head shows. */
export const HEAD_ROWS = 10;
/** Rows whose keys and types are looked at to find the columns. */
const SAMPLED_ROWS = 1_000;
/** Columns a head table shows; the shape line names up to {@linkcode NAMED_COLUMNS}. */
const SHOWN_COLUMNS = 20;
const NAMED_COLUMNS = 50;
/** Characters of one table cell at most. */
const CELL_CHARS = 60;

/** A value as a table: what it is and how large, and its first rows. */
export interface TableView {
  /** E.g. `Array of 100,000 rows × 3 columns: id (number), name (string), when (Date)`. */
  shape: string;
  /** A markdown table of the first rows, with a line saying how many more there are. */
  head: string;
}

/**
 * The table view of `value`, or `undefined` when it is no table: an array of at least two
 * records (plain or class-instance objects), a `Map` of at least two entries (a `key` column, then
 * `value`, or the value's own columns when the values are records), or an object with a
 * `toMarkdown()` method. Looking at the value reads its data properties only, and a library's
 * `toMarkdown()` that throws makes the value no table.
 *
 * @example
 * ```ts
 * tableView([{ a: 1 }, { a: 2 }])?.shape; // "Array of 2 rows × 1 column: a (number)"
 * ```
 */
export function tableView(value: unknown): TableView | undefined {
  try {
    if (Array.isArray(value)) return arrayView(value);
    if (value instanceof Map) return mapView(value);
    if (isObject(value) && typeof (value as { toMarkdown?: unknown }).toMarkdown === "function") {
      return libraryView(value as LibraryTable);
    }
  } catch {
    // A getter, a Proxy or a library threw: the value is shown as text/plain only.
  }
  return undefined;
}

/** The markdown a model reads for a table: the shape line, a blank line, the head. */
export function tableMarkdown(view: TableView): string {
  return `${view.shape}\n\n${view.head}`;
}

function arrayView(rows: unknown[]): TableView | undefined {
  if (rows.length < 2) return undefined;
  const sample = rows.slice(0, SAMPLED_ROWS);
  if (!sample.every(isRecord)) return undefined;
  return recordsView(
    `Array of ${count(rows.length, "row")}`,
    sample as Record<string, unknown>[],
    rows.length,
  );
}

function mapView(map: Map<unknown, unknown>): TableView | undefined {
  if (map.size < 2) return undefined;
  const sample: Record<string, unknown>[] = [];
  for (const [key, value] of map) {
    if (sample.length >= SAMPLED_ROWS) break;
    sample.push({ key, value });
  }
  const records = sample.every((r) => isRecord(r.value));
  const rows = records
    ? sample.map((r) => ({ key: r.key, ...r.value as Record<string, unknown> }))
    : sample;
  return recordsView(`Map of ${count(map.size, "entry", "entries")}`, rows, map.size);
}

/** The parts of a data library's table this file uses, each optional but `toMarkdown`. */
interface LibraryTable {
  toMarkdown(options?: { limit?: number }): unknown;
  numRows?(): unknown;
  numCols?(): unknown;
  columnNames?(): unknown;
  objects?(options?: { limit?: number }): unknown;
}

function libraryView(table: LibraryTable): TableView | undefined {
  const markdown = table.toMarkdown({ limit: HEAD_ROWS });
  if (typeof markdown !== "string") return undefined;
  const rows = typeof table.numRows === "function" ? Number(table.numRows()) : undefined;
  const names = typeof table.columnNames === "function" ? table.columnNames() : undefined;
  const sample = typeof table.objects === "function"
    ? table.objects({ limit: SAMPLED_ROWS })
    : undefined;
  const kind = (table as { constructor?: { name?: string } }).constructor?.name || "Table";
  const size = rows !== undefined && Number.isFinite(rows) ? ` of ${count(rows, "row")}` : "";
  let columns = "";
  if (Array.isArray(names)) {
    const types = Array.isArray(sample) && sample.every(isRecord)
      ? columnTypes(sample as Record<string, unknown>[], names.map(String))
      : undefined;
    columns = ` × ${columnList(names.map(String), types)}`;
  }
  const more = rows !== undefined && rows > HEAD_ROWS
    ? `\n… ${count(rows - HEAD_ROWS, "more row")}`
    : "";
  return { shape: `${kind}${size}${columns}`, head: `${markdown.trimEnd()}${more}` };
}

function recordsView(what: string, sample: Record<string, unknown>[], total: number): TableView {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of sample) {
    for (const key of Object.keys(row)) {
      if (seen.has(key)) continue;
      seen.add(key);
      names.push(key);
    }
  }
  // Types only for the columns named: a record of thousands of keys costs bounded time.
  const types = columnTypes(sample, names.slice(0, NAMED_COLUMNS));
  const shown = names.slice(0, SHOWN_COLUMNS);
  const lines = [
    `| ${shown.map(cellText).join(" | ")} |`,
    `| ${shown.map((n) => types.get(n) === "number" ? "--:" : "---").join(" | ")} |`,
    ...sample.slice(0, HEAD_ROWS).map((row) =>
      `| ${shown.map((n) => Object.hasOwn(row, n) ? cell(dataValue(row, n)) : "").join(" | ")} |`
    ),
  ];
  const notes: string[] = [];
  if (total > HEAD_ROWS) notes.push(count(total - HEAD_ROWS, "more row"));
  if (names.length > shown.length) notes.push(count(names.length - shown.length, "more column"));
  if (notes.length > 0) lines.push(`… ${notes.join(", ")}`);
  return { shape: `${what} × ${columnList(names, types)}`, head: lines.join("\n") };
}

/** `3 columns: id (number), name (string)`, naming at most {@linkcode NAMED_COLUMNS}. */
function columnList(names: string[], types?: Map<string, string>): string {
  const named = names.slice(0, NAMED_COLUMNS).map((n) => {
    const type = types?.get(n);
    return type ? `${n} (${type})` : n;
  });
  const rest = names.length > NAMED_COLUMNS ? `, … ${names.length - NAMED_COLUMNS} more` : "";
  return `${count(names.length, "column")}: ${named.join(", ")}${rest}`;
}

/** Each column's types across the sample, e.g. `number`, `string | null`, `mixed`. */
function columnTypes(sample: Record<string, unknown>[], names: string[]): Map<string, string> {
  const types = new Map<string, string>();
  for (const name of names) {
    const found = new Set<string>();
    for (const row of sample) {
      if (Object.hasOwn(row, name)) found.add(kindOf(dataValue(row, name)));
      if (found.size > 3) break;
    }
    types.set(name, found.size > 3 ? "mixed" : [...found].join(" | "));
  }
  return types;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  if (Array.isArray(value)) return "Array";
  return Object.getPrototypeOf(value)?.constructor?.name || "Object";
}

/** A property's value if it is a data property; a getter is not run. */
function dataValue(row: Record<string, unknown>, name: string): unknown {
  const d = Object.getOwnPropertyDescriptor(row, name);
  return d && "value" in d ? d.value : "[getter]";
}

function cell(value: unknown): string {
  if (typeof value === "string") return cellText(value);
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  return cellText(preview(value, CELL_CHARS));
}

/** Text that cannot break a markdown table's row: one line, `|` escaped, bounded. */
function cellText(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, " ").replaceAll("|", "\\|");
  return flat.length > CELL_CHARS ? `${flat.slice(0, CELL_CHARS - 1)}…` : flat;
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === "object";
}

/** An object whose keys are columns: not an array, collection, date or other built-in value. */
function isRecord(value: unknown): boolean {
  if (!isObject(value) || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  return !(value instanceof Map || value instanceof Set || value instanceof Date ||
    value instanceof RegExp || value instanceof Error || value instanceof Promise ||
    value instanceof WeakMap || value instanceof WeakSet || value instanceof ArrayBuffer);
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}
