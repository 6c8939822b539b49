import assert from "node:assert/strict";
import { bundleImage, bundleParts, bundleText } from "../../src/mcp/mime_content.ts";
import { NOTE_TYPE } from "../../src/render/bundle_renderer.ts";

Deno.test("a bundle's text is its markdown, else its HTML's text, else text/plain", () => {
  assert.equal(
    bundleText({ "text/markdown": "**m**", "text/html": "<b>h</b>", "text/plain": "p" }),
    "**m**",
  );
  assert.equal(bundleText({ "text/html": "<p>h &amp; i</p>", "text/plain": "p" }), "h & i");
  assert.equal(bundleText({ "application/json": { a: 1 }, "text/plain": "p" }), "p");
  assert.equal(bundleText({ "text/plain": "p", [NOTE_TYPE]: "[note]" }), "p\n[note]");
  // A bundle of nothing a model can read says what it held.
  assert.equal(
    bundleText({ "application/vnd.vegalite.v5+json": {}, "text/plain": "" }),
    "[application/vnd.vegalite.v5+json: not shown]",
  );
  assert.equal(
    bundleText({ "image/svg+xml": "<svg", "text/plain": "", [NOTE_TYPE]: "[n]" }),
    "[n]",
  );
});

Deno.test("a raster image in a bundle is MCP image content; its other entries are not shown", () => {
  const bundle = { "image/png": "iVBORw0K", "text/markdown": "alt", "text/plain": "p" };
  assert.deepEqual(bundleImage(bundle), { type: "image", data: "iVBORw0K", mimeType: "image/png" });
  assert.deepEqual(bundleParts(bundle), [{
    type: "image",
    data: "iVBORw0K",
    mimeType: "image/png",
  }]);
  for (const mimeType of ["image/jpeg", "image/gif", "image/webp"]) {
    assert.equal(bundleImage({ [mimeType]: "AAAA", "text/plain": "" })?.mimeType, mimeType);
  }
  // SVG alone is no image for a model: the host draws it first (render/bundle_renderer.ts).
  assert.equal(bundleImage({ "image/svg+xml": "<svg/>", "text/plain": "s" }), undefined);
});

Deno.test("a label and a renderer's note come before the image; text gets the label too", () => {
  assert.deepEqual(
    bundleParts({ "image/png": "AAAA", "text/plain": "", [NOTE_TYPE]: "[scaled]" }, "Out[2]: "),
    ["Out[2]: [scaled]", { type: "image", data: "AAAA", mimeType: "image/png" }],
  );
  assert.deepEqual(bundleParts({ "image/png": "AAAA", "text/plain": "" }, "Out[2]: "), [
    "Out[2]:",
    { type: "image", data: "AAAA", mimeType: "image/png" },
  ]);
  assert.deepEqual(bundleParts({ "text/plain": "42" }, "Out[2]: "), ["Out[2]: 42"]);
});
