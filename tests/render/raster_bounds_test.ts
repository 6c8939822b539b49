import assert from "node:assert/strict";
import { fitBytes, fitRaster, RASTER_BOUNDS } from "../../src/render/raster_bounds.ts";

Deno.test("an image within the bounds keeps its own size, rounded up to whole pixels", () => {
  assert.deepEqual(fitRaster({ width: 600, height: 400 }), { width: 600, height: 400 });
  assert.deepEqual(fitRaster({ width: 99.5, height: 0.2 }), { width: 100, height: 1 });
  assert.deepEqual(fitRaster({ width: 8000, height: 2000 }), { width: 8000, height: 2000 });
});

Deno.test("an image beyond a side or the pixel count is scaled down keeping its aspect ratio", () => {
  assert.deepEqual(fitRaster({ width: 20000, height: 1000 }), { width: 8000, height: 400 });
  assert.deepEqual(fitRaster({ width: 1000, height: 16000 }), { width: 500, height: 8000 });
  const square = fitRaster({ width: 6000, height: 6000 });
  assert.deepEqual(square, { width: 4000, height: 4000 });
  assert.ok(square.width * square.height <= RASTER_BOUNDS.maxPixels);
  assert.deepEqual(fitRaster({ width: 1e6, height: 1 }), { width: 8000, height: 1 });
  assert.deepEqual(fitRaster({ width: 100, height: 100 }, { maxSide: 50, maxPixels: 1e9 }), {
    width: 50,
    height: 50,
  });
});

Deno.test("an encoding over the byte bound is redrawn smaller by the square root, with reserve", () => {
  assert.deepEqual(fitBytes({ width: 1000, height: 500 }, 400, 100), { width: 474, height: 237 });
  assert.deepEqual(fitBytes({ width: 1000, height: 500 }, 50, 100), { width: 1000, height: 500 });
});
