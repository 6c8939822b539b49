/**
 * `JSON.stringify` in pieces: the same text, handed out in chunks of about a given size, so that
 * a large snapshot never exists as one string inside a kernel whose memory is limited.
 *
 * @module
 */

/** Elements or members counted before a value is no longer small enough to stringify at once. */
const SMALL = 4096;
/** Small array elements stringified together in one call. */
const RUN = 4096;
/** Nodes of small array elements stringified together in one call. */
const RUN_NODES = 4096;

/**
 * Writes `JSON.stringify(value)` to `emit` in chunks of about `size` UTF-16 units (the last may
 * be shorter; a value with no JSON form emits nothing).
 *
 * @example
 * ```ts
 * const parts: string[] = [];
 * writeJson({ rows: [1, 2, 3] }, (text) => parts.push(text), 4);
 * parts.join(""); // '{"rows":[1,2,3]}'
 * ```
 */
export function writeJson(value: unknown, emit: (text: string) => void, size = 1 << 18): void {
  let parts: string[] = [];
  let length = 0;
  const put = (text: string) => {
    // One long string (a typed array's base64, a large text) is cut too: the host decodes each
    // chunk on its own, and a 100 MB one held its event loop for a third of a second. A cut
    // never falls inside a surrogate pair, which each chunk's UTF-8 would then lose.
    while (text.length > size) {
      const c = text.charCodeAt(size - 1);
      const cut = c >= 0xd800 && c <= 0xdbff ? size - 1 : size;
      put(text.slice(0, cut));
      text = text.slice(cut);
    }
    parts.push(text);
    length += text.length;
    if (length >= size) {
      emit(parts.join(""));
      parts = [];
      length = 0;
    }
  };

  function write(v: unknown, inArray: boolean): void {
    if (!isContainer(v) || small(v, SMALL) >= 0) {
      const text = JSON.stringify(v);
      put(text ?? (inArray ? "null" : ""));
      return;
    }
    if (Array.isArray(v)) {
      put("[");
      for (let i = 0; i < v.length;) {
        if (i > 0) put(",");
        let end = i;
        let budget = RUN_NODES;
        while (end < v.length && end - i < RUN && (budget = small(v[end], budget)) >= 0) end++;
        if (end > i) {
          // Holes and undefined become null, as JSON.stringify writes them inside arrays.
          put(JSON.stringify(v.slice(i, end)).slice(1, -1));
          i = end;
        } else {
          write(v[i], true);
          i++;
        }
      }
      put("]");
      return;
    }
    put("{");
    let first = true;
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
      put(`${first ? "" : ","}${JSON.stringify(key)}:`);
      first = false;
      write(item, false);
    }
    put("}");
  }

  write(value, false);
  if (length > 0) emit(parts.join(""));
}

/** A plain array or object that JSON.stringify would walk into (no toJSON of its own). */
function isContainer(v: unknown): v is object {
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) &&
    typeof (v as { toJSON?: unknown }).toJSON !== "function";
}

/** `budget` less the nodes under `v`, or a negative number once the budget is spent. */
function small(v: unknown, budget: number): number {
  budget--;
  if (typeof v !== "object" || v === null || budget < 0) return budget;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && budget >= 0; i++) budget = small(v[i], budget);
    return budget;
  }
  for (const key in v) {
    if (budget < 0) break;
    budget = small((v as Record<string, unknown>)[key], budget);
  }
  return budget;
}
