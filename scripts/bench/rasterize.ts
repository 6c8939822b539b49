/**
 * Figure 8: drawing a chart's SVG to PNG for a model. The host draws in a Worker of its own
 * (`src/render/svg_rasterizer.ts`); its floor is the same drawing on the calling thread, which
 * is also how long the host's event loop would stall per chart were it drawn there. A Vega-Lite
 * chart goes through the host's bundle renderer: Vega's Worker draws it to SVG, the rasterizer
 * to PNG; its floor is drawing an SVG of the same size.
 *
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { BundleRenderer } from "../../src/render/bundle_renderer.ts";
import { loadFonts } from "../../src/render/fonts.ts";
import { SvgRasterizer } from "../../src/render/svg_rasterizer.ts";
import { type Row, type Sizes, stats, time } from "./harness.ts";

/** A 600×400 bar-and-line chart: axes, grid, 24 bars, tick labels, a title and a legend. */
export function chartSvg(): string {
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const y = 350 - i * 60;
    parts.push(
      `<line x1="50" y1="${y}" x2="580" y2="${y}" stroke="#ddd"/>`,
      `<text x="44" y="${y + 4}" font-size="11" text-anchor="end">${i * 20}</text>`,
    );
  }
  const points: string[] = [];
  for (let i = 0; i < 24; i++) {
    const h = 40 + ((i * 37) % 250);
    const x = 60 + i * 21.5;
    parts.push(
      `<rect x="${x}" y="${350 - h}" width="16" height="${h}" fill="steelblue"/>`,
      `<text x="${x + 8}" y="366" font-size="10" text-anchor="middle">${i + 1}</text>`,
    );
    points.push(`${x + 8},${330 - h * 0.8}`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400" viewBox="0 0 600 400">` +
    `<rect width="600" height="400" fill="white"/>${parts.join("")}` +
    `<polyline points="${points.join(" ")}" fill="none" stroke="crimson" stroke-width="2"/>` +
    `<line x1="50" y1="350" x2="580" y2="350" stroke="black"/>` +
    `<line x1="50" y1="20" x2="50" y2="350" stroke="black"/>` +
    `<text x="315" y="390" font-size="13" text-anchor="middle">Month</text>` +
    `<text x="315" y="16" font-size="15" font-weight="bold" text-anchor="middle">Sales by month</text>` +
    `<rect x="470" y="28" width="10" height="10" fill="steelblue"/>` +
    `<text x="486" y="37" font-size="11">units</text></svg>`;
}

/** A 600×400 Vega-Lite bar chart of 24 months, with axes, titles and a line over the bars. */
export function chartSpec(): Record<string, unknown> {
  const values = Array.from(
    { length: 24 },
    (_, i) => ({ month: i + 1, units: 40 + (i * 37) % 250 }),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "Sales by month",
    width: 600,
    height: 400,
    autosize: "fit",
    data: { values },
    encoding: { x: { field: "month", type: "ordinal" } },
    layer: [
      { mark: "bar", encoding: { y: { field: "units", type: "quantitative" } } },
      {
        mark: { type: "line", color: "crimson" },
        encoding: { y: { field: "units", type: "quantitative" } },
      },
    ],
  };
}

/** Warm Vega-Lite charts drawn to PNG by the host's bundle renderer. */
async function vegaFigures(reps: number, svgMedian: number): Promise<Row[]> {
  await using renderer = new BundleRenderer();
  const bundle = { "application/vnd.vegalite.v5+json": chartSpec(), "text/plain": "" };
  const draw = async () => {
    const drawn = await renderer.render(bundle);
    if (typeof drawn["image/png"] !== "string") throw new Error("the chart was not drawn");
  };
  const firstMs = await time(draw);
  const warm: number[] = [];
  for (let i = 0; i < reps; i++) warm.push(await time(draw));
  return [
    {
      name: "vega-lite chart to image",
      workload: "600×400 bars and line, 24 points: Vega Worker to SVG, rasterizer to PNG (warm)",
      reps,
      ...stats(warm),
      unit: "ms",
      floor: { name: "drawing a 600×400 chart SVG (host rasterizer)", median: svgMedian },
    },
    {
      name: "first vega-lite chart (starts both Workers, loads Vega, resvg and fonts)",
      workload: "the same chart, once",
      reps: 1,
      median: firstMs,
      unit: "ms",
    },
  ];
}

/** Warm drawings through the host's rasterizer, and the same on this thread; Vega-Lite charts. */
export async function rasterizeFigures(sizes: Sizes): Promise<Row[]> {
  const svg = chartSvg();
  const reps = sizes.quick ? 3 : 50;
  await using rasterizer = new SvgRasterizer();
  const firstMs = await time(() => rasterizer.rasterize(svg));
  const viaWorker: number[] = [];
  for (let i = 0; i < reps; i++) viaWorker.push(await time(() => rasterizer.rasterize(svg)));

  await initWasm(
    await Deno.readFile(new URL(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm"))),
  );
  const font = await loadFonts();
  const draw = () => {
    const resvg = new Resvg(svg, { font });
    const image = resvg.render();
    image.asPng();
    image.free();
    resvg.free();
    return Promise.resolve();
  };
  for (let i = 0; i < 3; i++) await draw();
  const here: number[] = [];
  for (let i = 0; i < reps; i++) here.push(await time(draw));

  const floor = { name: "the same drawing on the calling thread", median: stats(here).median };
  const svgMedian = stats(viaWorker).median;
  return [
    {
      name: "draw a 600×400 chart SVG to PNG",
      workload: "bars, grid, labels, title (host rasterizer Worker, warm)",
      reps,
      ...stats(viaWorker),
      unit: "ms",
      floor,
    },
    {
      name: "first drawing (starts the Worker, loads resvg and fonts)",
      workload: "the same chart, once",
      reps: 1,
      median: firstMs,
      unit: "ms",
    },
    ...await vegaFigures(reps, svgMedian),
  ];
}
