/**
 * How values look to the model: renderings like the Deno REPL's, short type names, previews and
 * approximate sizes.
 *
 * @module
 */
import { shownSource } from "./shown_source.ts";

/** Depth and length limits of a rendered result. */
const RESULT_OPTIONS: Deno.InspectOptions = {
  depth: 4,
  iterableLimit: 100,
  strAbbreviateSize: 10_000,
  colors: false,
  breakLength: 80,
  sorted: false,
  trailingComma: false,
  getters: false,
  showProxy: false,
};

/**
 * Renders a value as the Deno REPL prints it (strings quoted), within depth and length limits.
 *
 * @param depth How deep nested objects are expanded (default 4).
 */
export function render(value: unknown, depth = RESULT_OPTIONS.depth): string {
  // Deno.inspect prints a top-level string bare; wrapping it shows it quoted, as the REPL does.
  if (typeof value === "string") {
    return quotedHead(value, RESULT_OPTIONS.strAbbreviateSize ?? 10_000, RESULT_OPTIONS);
  }
  return Deno.inspect(value, { ...RESULT_OPTIONS, depth });
}

/**
 * A string quoted as `Deno.inspect` quotes it, cut after `limit` characters with Deno's own
 * `... N more characters`. Deno.inspect escapes the whole string before cutting it, which for a
 * string of 60 million characters costs a second and a copy of it; this escapes the head only.
 */
function quotedHead(value: string, limit: number, options: Deno.InspectOptions): string {
  const head = value.length > limit ? value.slice(0, limit) : value;
  const quoted = Deno.inspect([head], { ...options, breakLength: Infinity }).slice(2, -2);
  const more = value.length - head.length;
  return more > 0 ? `${quoted}... ${more} more character${more === 1 ? "" : "s"}` : quoted;
}

/** A one-line preview of at most `max` characters. */
export function preview(value: unknown, max = 80): string {
  const text = typeof value === "function"
    ? firstLine(shownSource(value))
    : typeof value === "string"
    ? quotedHead(value, max, { ...RESULT_OPTIONS, compact: true })
    : Deno.inspect(value, {
      ...RESULT_OPTIONS,
      depth: 1,
      iterableLimit: 10,
      strAbbreviateSize: max,
      breakLength: Infinity,
      compact: true,
    });
  const flat = text.replace(/\s*\n\s*/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function firstLine(source: string): string {
  const [line = ""] = source.split("\n");
  return line.length < source.length ? `${line} …` : line;
}

/** A short type name: `number`, `string`, `Array(3)`, `Map(2)`, `class`, `function`, `Point`. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") {
    return /^class[\s{]/.test(Function.prototype.toString.call(value)) ? "class" : "function";
  }
  if (typeof value !== "object") return typeof value;
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (value instanceof Map || value instanceof Set) {
    return `${value.constructor.name}(${value.size})`;
  }
  if (ArrayBuffer.isView(value) && "length" in value) {
    return `${value.constructor.name}(${value.length})`;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === null ? "Object" : proto.constructor?.name || "Object";
}

/**
 * Approximate bytes a value holds, found by walking it: shared objects count once, and the walk
 * stops after `budget` objects so that a huge value costs bounded time.
 */
export function approximateBytes(value: unknown, budget = 100_000): number {
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  let bytes = 0;
  while (stack.length > 0 && seen.size < budget) {
    const v = stack.pop();
    switch (typeof v) {
      case "string":
        bytes += 16 + 2 * v.length;
        continue;
      case "number":
      case "boolean":
      case "undefined":
      case "symbol":
        bytes += 8;
        continue;
      case "bigint":
        bytes += 16 + Math.ceil(v.toString(16).length / 2);
        continue;
    }
    if (v === null) {
      bytes += 8;
      continue;
    }
    const o = v as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (o instanceof ArrayBuffer) bytes += o.byteLength;
    else if (ArrayBuffer.isView(o)) bytes += 32 + o.byteLength;
    else if (typeof o === "function") bytes += 64 + Function.prototype.toString.call(o).length;
    else if (o instanceof Map) {
      bytes += 32;
      for (const [k, val] of o) stack.push(k, val);
    } else if (o instanceof Set) {
      bytes += 32;
      for (const k of o) stack.push(k);
    } else {
      const keys = Object.keys(o);
      bytes += 24 + 8 * keys.length;
      for (const k of keys) {
        if (!Array.isArray(o)) bytes += 16 + 2 * k.length;
        const d = Object.getOwnPropertyDescriptor(o, k);
        if (d && "value" in d) stack.push(d.value);
      }
    }
  }
  return bytes;
}
