/**
 * Preludes the host ships, chosen by name with `--prelude NAME` instead of a file, as the
 * ancestor's Python kernels came with pandas, numpy and polars loaded. `data` gives a kernel a
 * table library, a CSV parser, statistics and a chart helper. Its `npm:` imports are pinned and
 * fetched by the host like any cell's (see `npm_prefetch.ts`); a kernel started without it does
 * not load them.
 *
 * @module
 */
import { compileCell } from "./kernel/cell_compiler.ts";
import { npmPackageName, npmRefusal } from "./kernel/npm_imports.ts";

/** A prelude the host ships: its source and what it defines, in words for a model. */
export interface BuiltinPrelude {
  source: string;
  /** The names it defines, one clause each, for the server instructions. */
  defines: string;
}

/**
 * `chart(spec)` displays a Vega-Lite spec (the host draws it to PNG). `spec.data` may be an
 * array of rows or a table with `objects()` (arquero's) instead of `{ values }`; without a
 * `$schema` the spec is taken as Vega-Lite v5.
 */
const DATA_SOURCE = `import * as aq from "npm:arquero@7.2.1";
import { autoType, csvFormat, csvParse, csvParseRows, tsvFormat, tsvParse } from "npm:d3-dsv@3.0.2";
import * as ss from "npm:simple-statistics@7.8.8";
const { op } = aq;
function chart(spec) {
  if (spec === null || typeof spec !== "object") {
    throw new TypeError("chart(spec) takes a Vega-Lite spec object");
  }
  const data = spec.data;
  const values = Array.isArray(data)
    ? data
    : typeof data?.objects === "function" ? data.objects() : undefined;
  const full = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    ...spec,
    ...(values && { data: { values } }),
  };
  const version = /vega-lite\\/v(\\d+)/.exec(String(full.$schema))?.[1] ?? "5";
  Deno.jupyter.display({ [\`application/vnd.vegalite.v\${version}+json\`]: full }, { raw: true });
}
`;

/** The preludes by name. */
export const BUILTIN_PRELUDES: Readonly<Record<string, BuiltinPrelude>> = {
  data: {
    source: DATA_SOURCE,
    defines: "aq and op (arquero 7 tables: aq.from(rows), aq.fromCSV(text), " +
      ".groupby().rollup({ n: op.count() })), csvParse, tsvParse, autoType, csvFormat, " +
      "tsvFormat and csvParseRows (d3-dsv: csvParse(text, autoType) types numbers), ss " +
      "(simple-statistics: ss.mean, ss.median, ss.standardDeviation, ss.linearRegression) and " +
      "chart(spec), which displays a Vega-Lite spec as an image (spec.data may be rows or a table)",
  },
};

/** The prelude `--prelude` names: a built-in one by name, otherwise the file's text. */
export interface PreludeChoice {
  source: string;
  /** What it defines, for the server instructions; only a built-in prelude says. */
  defines?: string;
}

/**
 * Resolves `--prelude VALUE`: a built-in name (`data`) wins over a file of that name (write
 * `./data` for the file).
 *
 * @param npmAllow The packages kernels may import (`--npm-allow`); `undefined`: every package.
 * @throws {Deno.errors.NotFound} And any other error reading a file that is no built-in name.
 * @throws {Error} When the prelude imports a package `npmAllow` leaves out, which would leave
 * every kernel without the prelude's names; the message names the packages.
 */
export async function choosePrelude(
  value: string,
  npmAllow?: readonly string[],
): Promise<PreludeChoice> {
  const builtin = Object.hasOwn(BUILTIN_PRELUDES, value) ? BUILTIN_PRELUDES[value] : undefined;
  const choice = builtin
    ? { source: builtin.source, defines: builtin.defines }
    : { source: await Deno.readTextFile(value) };
  // A prelude that does not compile is refused when a kernel starts, with its syntax error.
  const compiled = compileCell(choice.source, "prelude");
  const refused = compiled.ok
    ? compiled.imports.npm.filter((s) => npmRefusal(s, npmAllow) !== undefined)
    : [];
  if (refused.length > 0) {
    const names = [...new Set(refused.map((s) => npmPackageName(s) ?? s))];
    throw new Error(
      `it imports ${names.join(", ")}, which --npm-allow leaves out; add ${
        names.length > 1 ? "them" : "it"
      } to --npm-allow`,
    );
  }
  return choice;
}
