import assert from "node:assert/strict";
import { SvgRasterizer } from "../../src/render/svg_rasterizer.ts";
import { decodePng, paintedPixels, pngSize } from "../_png.ts";

const SVG = "http://www.w3.org/2000/svg";

Deno.test("text is drawn in every generic family: the rasterizer has fonts of its own", async () => {
  await using rasterizer = new SvgRasterizer();
  for (const family of ["sans-serif", "serif", "monospace", "Helvetica, Arial", "no such font"]) {
    const drawn = await rasterizer.rasterize(
      `<svg xmlns="${SVG}" width="200" height="40"><text x="5" y="30" font-size="20" ` +
        `font-family="${family}">Axis 0 1 2</text></svg>`,
    );
    const png = await decodePng(drawn.png);
    assert.deepEqual([png.width, png.height], [200, 40]);
    assert.ok(paintedPixels(png) > 200, `${family}: ${paintedPixels(png)} pixels painted`);
  }
});

Deno.test("an SVG is drawn at its own size, or scaled to the bounds before its canvas exists", async () => {
  await using rasterizer = new SvgRasterizer({
    bounds: { maxSide: 1000, maxPixels: 500_000, maxBytes: 2 ** 20 },
  });
  const own = await rasterizer.rasterize(`<svg xmlns="${SVG}" viewBox="0 0 300 150"></svg>`);
  assert.deepEqual([own.width, own.height], [300, 150]);
  // Transparent unless a background is asked for.
  assert.equal((await decodePng(own.png)).pixels[3], 0);
  const white = await rasterizer.rasterize(`<svg xmlns="${SVG}" width="2" height="2"/>`, {
    background: "white",
  });
  assert.deepEqual([...(await decodePng(white.png)).pixels.subarray(0, 4)], [255, 255, 255, 255]);
  // resvg aborts on a canvas this large; bounded first, it is drawn.
  const huge = await rasterizer.rasterize(
    `<svg xmlns="${SVG}" width="100000" height="100000"><circle cx="50000" cy="50000" r="40000"/></svg>`,
  );
  assert.deepEqual(pngSize(huge.png), { width: 707, height: 707 });
  assert.deepEqual(huge.intrinsic, { width: 100000, height: 100000 });
});

Deno.test("an SVG that cannot be drawn is refused with the reason, and the next one is drawn", async () => {
  await using rasterizer = new SvgRasterizer({ maxSvgChars: 1000 });
  await assert.rejects(rasterizer.rasterize("<svg"), /^Error: Cannot draw SVG: /);
  await assert.rejects(
    rasterizer.rasterize(`<svg>${" ".repeat(1000)}</svg>`),
    { name: "RangeError", message: "Cannot draw SVG of 1011 characters: at most 1000" },
  );
  const ok = await rasterizer.rasterize(`<svg xmlns="${SVG}" width="10" height="10"/>`);
  assert.deepEqual(pngSize(ok.png), { width: 10, height: 10 });
});

Deno.test("a drawing past its time is refused, its Worker ended", async () => {
  await using rasterizer = new SvgRasterizer({ timeoutMs: 1 });
  // The first drawing also loads the renderer and its fonts: far beyond 1 ms.
  await assert.rejects(
    rasterizer.rasterize(`<svg xmlns="${SVG}" width="10" height="10"/>`),
    { message: "Cannot draw SVG: it took more than 1 ms" },
  );
});
