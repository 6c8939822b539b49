/**
 * Text a model (or an operator's terminal) reads, made unambiguous: terminal escape sequences
 * and other control characters removed, and a cell's own output quoted line by line so that
 * nothing it prints can pass for the lines the host writes (`[3] ok`, `Out[3]:`, `Lost:`).
 *
 * @module
 */

/** CSI and OSC sequences (colours, cursor moves, titles, links), and lone escapes. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]?/g;
/** C0 controls but tab and newline, DEL, and C1 controls; a lone carriage return too. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** `text` without terminal escapes and control characters (tabs and newlines kept); pure. */
export function plainText(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(ESCAPES, "").replace(CONTROLS, "");
}

/**
 * `text` with every line quoted (`> `), so that no line a cell prints can pass for one the host
 * writes; a cut keeps the quoting of the lines it keeps. Pure.
 */
export function quoted(text: string): string {
  return text.replace(/\n$/, "").split("\n").map((line) => `> ${line}`).join("\n");
}
