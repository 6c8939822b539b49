/**
 * Built-in objects that a snapshot carries as the arguments that make them again: formatters
 * (`Intl.NumberFormat` and the other `Intl` classes, by their resolved options), `Intl.Locale`,
 * `TextEncoder`, `TextDecoder`, `URLSearchParams` and `DataView` (by the bytes it views, as a
 * typed array is: over a buffer of its own after a restore; a body with byte segments carries
 * a DataView by its buffer's segment instead, see `snapshot_codec.ts`).
 *
 * @module
 */

/** What makes a built-in again: its constructor's name and the arguments to pass it. */
export interface BuiltinRecipe {
  type: string;
  args: unknown[];
}

/** An `Intl` formatter: made again from its locale and resolved options. */
interface Formatter {
  resolvedOptions(): { locale: string };
}

const INTL = [
  "Collator",
  "DateTimeFormat",
  "DisplayNames",
  "ListFormat",
  "NumberFormat",
  "PluralRules",
  "RelativeTimeFormat",
  "Segmenter",
] as const;

/** The constructors by the name a recipe carries. */
const CONSTRUCTORS = new Map<string, new (...args: never[]) => object>([
  ["TextEncoder", TextEncoder],
  ["TextDecoder", TextDecoder],
  ["URLSearchParams", URLSearchParams],
  ["DataView", DataView],
  ["Intl.Locale", Intl.Locale],
  ...INTL.filter((name) => typeof Intl[name] === "function").map((name) =>
    [`Intl.${name}`, Intl[name] as unknown as new (...args: never[]) => object] as const
  ),
]);

/** The names by constructor, for the encoder's one lookup per object. */
const NAMES = new Map([...CONSTRUCTORS].map(([name, ctor]) => [ctor as unknown, name]));

/**
 * How to make `o` again, when its class is one this module carries (not a subclass); pure. The
 * arguments are new values, shared with nothing else the codec sees.
 */
export function builtinRecipe(o: object, ctor: unknown): BuiltinRecipe | undefined {
  const type = NAMES.get(ctor);
  if (type === undefined) return undefined;
  if (type === "TextEncoder") return { type, args: [] };
  if (type === "TextDecoder") {
    const d = o as TextDecoder;
    return { type, args: [d.encoding, { fatal: d.fatal, ignoreBOM: d.ignoreBOM }] };
  }
  if (type === "URLSearchParams" || type === "Intl.Locale") return { type, args: [String(o)] };
  if (type === "DataView") {
    const v = o as DataView;
    return { type, args: [v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)] };
  }
  const options = (o as Formatter).resolvedOptions();
  return { type, args: [options.locale, options] };
}

/**
 * Makes a built-in again from its recipe.
 *
 * @throws {TypeError} When the recipe names no built-in this module carries (a damaged
 *   snapshot), or its arguments no longer make one (a locale this runtime lacks).
 */
export function makeBuiltin(recipe: BuiltinRecipe): object {
  const Ctor = CONSTRUCTORS.get(recipe?.type);
  if (!Ctor || !Array.isArray(recipe.args)) {
    throw new TypeError(`Unknown built-in ${JSON.stringify(recipe?.type)} in snapshot`);
  }
  return new Ctor(...(recipe.args as never[]));
}
