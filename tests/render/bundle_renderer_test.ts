import assert from "node:assert/strict";
import {
  BundleRenderer,
  NOTE_TYPE,
  vegaWarning,
  withSvgNamespace,
} from "../../src/render/bundle_renderer.ts";
import { decodePng, pngSize, RED_PNG } from "../_png.ts";

const SVG = "http://www.w3.org/2000/svg";
const RED = new Uint8Array(RED_PNG);

function png(bundle: Record<string, unknown>): Uint8Array {
  return Uint8Array.fromBase64(bundle["image/png"] as string);
}

Deno.test("an SVG entry gets a PNG beside it, drawn on white; other entries are kept", async () => {
  await using renderer = new BundleRenderer();
  const svg =
    `<svg xmlns="${SVG}" width="60" height="30"><rect x="30" width="30" height="30"/></svg>`;
  const out = await renderer.render({ "image/svg+xml": svg, "text/plain": "chart" });
  assert.equal(out["image/svg+xml"], svg);
  assert.equal(out["text/plain"], "chart");
  const drawn = await decodePng(png(out));
  assert.deepEqual([drawn.width, drawn.height], [60, 30]);
  // Bare canvas is white, not transparent: black labels stay visible on any viewer.
  assert.deepEqual([...drawn.pixels.subarray(0, 4)], [255, 255, 255, 255]);
  assert.deepEqual([...drawn.pixels.subarray(59 * 4, 60 * 4)], [0, 0, 0, 255]);
  assert.equal(out[NOTE_TYPE], undefined);
});

Deno.test("a raster image within the bounds is kept as it is, under the type its bytes have", async () => {
  await using renderer = new BundleRenderer();
  const data = RED.toBase64();
  assert.deepEqual(await renderer.render({ "image/png": data, "text/plain": "p" }), {
    "image/png": data,
    "text/plain": "p",
  });
  // PNG bytes labelled JPEG are shown as the PNG they are.
  assert.deepEqual(await renderer.render({ "image/jpeg": data, "text/plain": "j" }), {
    "image/png": data,
    "text/plain": "j",
  });
  // Base64 wrapped in lines is unwrapped.
  const wrapped = data.replace(/(.{20})/g, "$1\n");
  assert.equal(
    (await renderer.render({ "image/png": wrapped, "text/plain": "" }))["image/png"],
    data,
  );
  // An SVG beside a raster image is not drawn: the raster is the richer entry already.
  const both = await renderer.render({
    "image/png": data,
    "image/svg+xml": "<svg",
    "text/plain": "",
  });
  assert.equal(both["image/png"], data);
});

Deno.test("a raster image beyond the bounds is scaled to a PNG with a note; a broken one is dropped", async () => {
  await using renderer = new BundleRenderer({
    bounds: { maxSide: 2, maxPixels: 100, maxBytes: 2 ** 20 },
  });
  const out = await renderer.render({ "image/png": RED.toBase64(), "text/plain": "p" });
  // 2×1.5 px, which resvg rounds up.
  assert.deepEqual(pngSize(png(out)), { width: 2, height: 2 });
  assert.equal(
    out[NOTE_TYPE],
    "[image/png of 4×3 px, 75 bytes, scaled to 2×2 px PNG to fit the model's image limits]",
  );
  const broken = await renderer.render({ "image/png": "bm90IGFuIGltYWdl", "text/plain": "p" });
  assert.deepEqual(broken, {
    "text/plain": "p",
    [NOTE_TYPE]: "[image/png not shown: its data is no PNG, JPEG, GIF or WebP image in base64]",
  });
});

Deno.test("an SVG that cannot be drawn keeps its text, with a note of why", async () => {
  await using renderer = new BundleRenderer();
  const out = await renderer.render({ "image/svg+xml": "<svg", "text/plain": "chart" });
  assert.equal(out["image/png"], undefined);
  assert.match(out[NOTE_TYPE] as string, /^\[image\/svg\+xml not shown: Cannot draw SVG: /);
});

Deno.test("a result's value and displays are rendered; a result with neither is returned as it is", async () => {
  await using renderer = new BundleRenderer();
  const base = { status: "ok" as const, executionCount: 1, stdout: "", stderr: "", durationMs: 1 };
  assert.equal(await renderer.renderResult(base), base);
  const svg = `<svg xmlns="${SVG}" width="8" height="8"/>`;
  const out = await renderer.renderResult({
    ...base,
    data: { "image/svg+xml": svg, "text/plain": "" },
    displays: [{ "text/markdown": "m", "text/plain": "m" }, {
      "image/svg+xml": svg,
      "text/plain": "",
    }],
  });
  assert.deepEqual(pngSize(png(out.data!)), { width: 8, height: 8 });
  assert.deepEqual(out.displays?.[0], { "text/markdown": "m", "text/plain": "m" });
  assert.deepEqual(pngSize(png(out.displays![1]!)), { width: 8, height: 8 });
});

Deno.test("an SVG root without the SVG namespace gets it; one with it, or without a root, is kept", () => {
  assert.equal(
    withSvgNamespace('<svg width="2"><g/></svg>'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="2"><g/></svg>',
  );
  const namespaced = '<svg xmlns="http://www.w3.org/2000/svg" width="2"><svg width="1"/></svg>';
  assert.equal(withSvgNamespace(namespaced), namespaced);
  assert.equal(withSvgNamespace("<p>no svg</p>"), "<p>no svg</p>");
});

Deno.test("a Vega-Lite entry is drawn to a PNG; a refused data.url and an oversized chart are noted", async () => {
  await using renderer = new BundleRenderer();
  const spec = {
    width: 300,
    height: 200,
    data: { values: [{ a: "A", b: 1 }, { a: "B", b: 2 }] },
    mark: "bar",
    encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
  };
  const drawn = await renderer.render({
    "application/vnd.vegalite.v5+json": spec,
    "text/plain": "",
  });
  const size = pngSize(png(drawn));
  // The plot area plus axes and padding.
  assert.ok(size.width > 300 && size.width < 400 && size.height > 200, JSON.stringify(size));
  assert.equal(drawn[NOTE_TYPE], undefined);
  assert.deepEqual(drawn["application/vnd.vegalite.v5+json"], spec);

  const url = await renderer.render({
    "application/vnd.vegalite.v5+json": { ...spec, data: { url: "/etc/hostname" } },
    "text/plain": "",
  });
  assert.ok(png(url).length > 0);
  assert.match(url[NOTE_TYPE] as string, /refused to load \/etc\/hostname.*put it in data\.values/);

  const wide = await renderer.render({
    "application/vnd.vega.v5+json": {
      width: 20000,
      height: 100,
      marks: [{
        type: "rect",
        encode: { enter: { width: { value: 20000 }, height: { value: 100 } } },
      }],
    },
    "text/plain": "",
  });
  assert.equal(pngSize(png(wide)).width, 8000);
  assert.match(
    wide[NOTE_TYPE] as string,
    /application\/vnd\.vega\.v5\+json of 20000×100 px scaled/,
  );

  const broken = await renderer.render({
    "application/vnd.vegalite.v5+json": "[",
    "text/plain": "",
  });
  assert.equal(broken["image/png"], undefined);
  assert.match(broken[NOTE_TYPE] as string, /not shown: Cannot draw a chart: its spec is no JSON/);
});

Deno.test("Vega's warnings are noted once each, at most five, with a hint when data was refused", () => {
  assert.equal(vegaWarning(["w", "w"]), "[chart drawn with warnings: w.]");
  const many = vegaWarning(["1", "2", "3", "4", "5", "6", "refused to load x"]);
  assert.match(many, /1; 2; 3; 4; 5 \(and 2 more\)\. A chart drawn by the host gets no data/);
});
