/**
 * Completion of the text before a cursor: globals, members along the prototype chain, and keys
 * inside `obj["…`. A value's own and its classes' members come first, `Object.prototype`'s
 * (`hasOwnProperty`, `toString`…) last, each group alphabetical. The object before the dot is evaluated only without side effects (V8's
 * `throwOnSideEffect`), so completing `a.b.` never runs a getter that changes state; calls such
 * as `f().` are not completed.
 *
 * @module
 */
import type { Completion } from "../protocol.ts";
import { peekBoxed } from "./namespace.ts";
import { ownNames } from "./own_names.ts";
import type { Repl } from "./repl.ts";

const IDENT = String.raw`[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*`;
/** A chain of property reads with no calls: `a`, `a.b`, `a?.b`, `a[0]`, `a["k"]`. */
const PATH = String.raw`${IDENT}(?:\s*(?:\??\.\s*${IDENT}|\[\s*(?:\d+|"[^"\\]*"|'[^'\\]*')\s*\]))*`;
const NOT_AFTER = String.raw`(?<![\p{ID_Continue}$.)\]\\])`;

const KEY_RE = new RegExp(String.raw`${NOT_AFTER}(${PATH})\s*\[\s*(["'])([^"'\\]*)$`, "u");
const MEMBER_RE = new RegExp(String.raw`${NOT_AFTER}(${PATH})\s*\??\.\s*(${IDENT})?$`, "u");
const GLOBAL_RE = new RegExp(String.raw`${NOT_AFTER}(${IDENT})?$`, "u");

const KEYWORDS = [
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "import",
  "in",
  "instanceof",
  "let",
  "new",
  "null",
  "return",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "var",
  "void",
  "while",
  "yield",
];

/**
 * Completes `code` at `cursor` (a UTF-16 index).
 *
 * @param repl Where names and values are looked up.
 */
export async function complete(repl: Repl, code: string, cursor: number): Promise<Completion> {
  const before = code.slice(0, cursor);
  const key = KEY_RE.exec(before);
  if (key) {
    const [, path = "", , partial = ""] = key;
    return result(await keysOf(repl, path, false), partial, cursor);
  }
  const member = MEMBER_RE.exec(before);
  if (member) {
    const [, path = "", partial = ""] = member;
    return result(await keysOf(repl, path, true), partial, cursor);
  }
  const global = GLOBAL_RE.exec(before);
  // After a dot that follows a call or other expression (`f().`), nothing is completed: that
  // would mean running the call.
  if (!global) return { matches: [], cursorStart: cursor, cursorEnd: cursor };
  const partial = global[1] ?? "";
  const [own, common] = chainNames(globalThis);
  return result([[...await repl.lexicalNames(), ...own, ...KEYWORDS], common], partial, cursor);
}

/** The names of `groups` that start with `partial`: group by group, each sorted, once each. */
function result(groups: string[][], partial: string, cursor: number): Completion {
  const seen = new Set<string>();
  const matches: string[] = [];
  for (const group of groups) {
    const fresh = [...new Set(group)].filter((n) => n.startsWith(partial) && !seen.has(n));
    for (const name of fresh.sort(byVisibility)) {
      seen.add(name);
      matches.push(name);
    }
  }
  return { matches, cursorStart: cursor - partial.length, cursorEnd: cursor };
}

/** Alphabetical, with `_private` and `__dunder__` names after the public ones. */
function byVisibility(a: string, b: string): number {
  const rank = (s: string) => s.startsWith("__") ? 2 : s.startsWith("_") ? 1 : 0;
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

async function keysOf(repl: Repl, path: string, inherited: boolean): Promise<string[][]> {
  const read = await peekBoxed(repl, path);
  if (!read.ok || read.value === null || read.value === undefined) return [];
  return inherited ? chainNames(read.value) : [ownNames(read.value, { enumerable: true })];
}

/**
 * Property names of a value and its prototypes, skipping symbols: those above
 * `Object.prototype`, then `Object.prototype`'s and every prototype's `constructor`. A string's
 * or a long array's indices are not listed.
 */
function chainNames(value: unknown): [string[], string[]] {
  const names: string[] = [];
  const common: string[] = [];
  const target: object = Object(value);
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
    for (const name of o === target ? ownNames(value) : Object.getOwnPropertyNames(o)) {
      (o === Object.prototype || name === "constructor" ? common : names).push(name);
    }
  }
  return [names, common];
}
