/**
 * Entry point of the host's Vega Worker (started by `vega_renderer.ts`): compiles a Vega-Lite
 * spec to Vega and draws a Vega spec to SVG, headless. The Worker is started with no
 * permissions, and Vega is given a loader that refuses every load, so a spec's `data.url` or
 * image URL reads no file and opens no connection (Vega's default loader would do both, with
 * the host's permissions). Expressions run in Vega's interpreter, not compiled with `Function`:
 * code run here could still `import()` a file, which Worker permissions do not govern.
 *
 * @module
 */
import * as vega from "vega";
import { expressionInterpreter } from "vega-interpreter";
import * as vegaLite from "vega-lite";

/** A spec to draw: `lite` when it is Vega-Lite, compiled to Vega first. */
export interface VegaRequest {
  id: number;
  spec: unknown;
  lite: boolean;
}

/** The SVG of one {@linkcode VegaRequest}, and what Vega warned of while drawing it. */
export type VegaReply =
  | { id: number; ok: true; svg: string; warnings: string[] }
  | { id: number; ok: false; message: string };

const scope = self as unknown as Worker;

/** A load refused, with the URL it named; Vega logs it and draws the chart without that data. */
function refuse(uri: string): Promise<never> {
  return Promise.reject(new Error(`refused to load ${uri}: the host loads no files or URLs`));
}

const loader = vega.loader();
loader.load = refuse;
loader.sanitize = refuse;

scope.addEventListener("message", async (event: MessageEvent<VegaRequest>) => {
  const { id, spec, lite } = event.data;
  let reply: VegaReply;
  try {
    reply = { id, ok: true, ...await draw(spec, lite) };
  } catch (error) {
    reply = { id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  scope.postMessage(reply);
});

async function draw(spec: unknown, lite: boolean): Promise<{ svg: string; warnings: string[] }> {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new TypeError(
      `the spec is no JSON object, got ${Array.isArray(spec) ? "an array" : typeof spec}`,
    );
  }
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn);
  const log = (...args: unknown[]) => {
    warnings.push(args.map((a) => a instanceof Error ? a.message : String(a)).join(" "));
    return logger;
  };
  logger.warn = log;
  logger.error = log;
  const vegaSpec = lite ? compileLite(spec, logger) : spec as vega.Spec;
  const view = new vega.View(vega.parse(vegaSpec, undefined, { ast: true }), {
    renderer: "none",
    loader,
    logger,
    expr: expressionInterpreter,
  } as vega.ViewOptions);
  try {
    return { svg: await view.toSVG(), warnings };
  } finally {
    view.finalize();
  }
}

/**
 * Vega-Lite's compile of `spec`. Vega-Lite validates little: an unknown mark type or a
 * malformed encoding fails inside it with a TypeError naming its own internals (`reading
 * 'filled'`), so such a failure is said as the spec's fault, with the marks it names.
 */
function compileLite(spec: object, logger: vega.LoggerInterface): vega.Spec {
  try {
    return vegaLite.compile(spec as vegaLite.TopLevelSpec, { logger }).spec;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const marks = [...new Set(marksOf(spec))].map((m) => JSON.stringify(m)).join(", ");
    throw new Error(
      `Vega-Lite could not compile the spec${marks ? ` (marks: ${marks})` : ""}: check its mark ` +
        `types, encodings and transforms against the Vega-Lite docs (${error.message})`,
    );
  }
}

/** The mark types a Vega-Lite spec names, in its layers and views too. */
function* marksOf(spec: unknown, depth = 0): Generator<unknown> {
  if (spec === null || typeof spec !== "object" || depth > 8) return;
  const record = spec as Record<string, unknown>;
  const mark = record.mark;
  if (mark !== undefined) {
    yield typeof mark === "object" && mark !== null ? (mark as { type?: unknown }).type : mark;
  }
  for (const key of ["layer", "concat", "hconcat", "vconcat", "spec"]) {
    const inner = record[key];
    for (const child of Array.isArray(inner) ? inner : [inner]) yield* marksOf(child, depth + 1);
  }
}
