/**
 * Globals a cell may not declare at its top level. A top-level `const Symbol = "AAPL"` becomes a
 * global binding that every later script and module sees in place of the built-in, the kernel's
 * own code and the libraries a cell imports included; and a declaration that throws leaves the
 * name unusable for the kernel's life. So the cell is refused before it runs, with the reason,
 * and nothing is lost. The list: the ECMAScript built-ins, and the host globals the kernel's own
 * code uses (`Deno`, `console`, `URL`, timers, `performance`, text coding, `Worker`…). Other
 * globals (`name`, `fetch`, `display`…) may be shadowed, as in any REPL.
 *
 * @module
 */
import { AWAIT_CHECK, AWAIT_TOKEN, INTERRUPT_CHECK } from "./worker/cell_interrupt.ts";

/** The globals no cell may declare at top level. */
export const PROTECTED_GLOBALS: ReadonlySet<string> = new Set([
  // ECMAScript built-ins.
  "globalThis",
  "Object",
  "Function",
  "Array",
  "Number",
  "Boolean",
  "String",
  "Symbol",
  "BigInt",
  "Math",
  "JSON",
  "Reflect",
  "Proxy",
  "Promise",
  "Date",
  "RegExp",
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
  "AggregateError",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "FinalizationRegistry",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Atomics",
  "Intl",
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "eval",
  "isFinite",
  "isNaN",
  "parseFloat",
  "parseInt",
  // Host globals the kernel's own code calls.
  "self",
  "Deno",
  "console",
  "URL",
  "TextEncoder",
  "TextDecoder",
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "queueMicrotask",
  "structuredClone",
  "performance",
  "postMessage",
  // Locked by the kernel (it would end the Worker): declaring it could only fail.
  "close",
  "Worker",
  "AbortController",
  "btoa",
  "atob",
  // The checks compiled loops and awaits call (`worker/cell_interrupt.ts`).
  INTERRUPT_CHECK,
  AWAIT_TOKEN,
  AWAIT_CHECK,
]);

/** Why a cell declaring `name` at top level is refused; pure. */
export function protectedMessage(name: string, kind: string): string {
  return `A cell cannot declare ${kind} ${name} at its top level: it would hide the built-in ` +
    `${name} from the kernel and from every library the kernel imports. The cell did not run ` +
    `and nothing changed; use another name (e.g. ${suggestion(name)}), or declare it inside a ` +
    "block or function.";
}

function suggestion(name: string): string {
  if (/^[A-Z0-9]+$/.test(name)) return name.toLowerCase();
  const lower = name[0]!.toLowerCase() + name.slice(1);
  return lower === name ? `my${name[0]!.toUpperCase()}${name.slice(1)}` : lower;
}
