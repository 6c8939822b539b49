import assert from "node:assert/strict";
import { imageSize, imageType } from "../../src/kernel/worker/image_bytes.ts";

function bytes(...parts: (number[] | string)[]): Uint8Array {
  return new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p),
  );
}

const PNG = bytes(
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13],
  "IHDR",
  [0, 0, 2, 0x58, 0, 0, 1, 0x90, 8, 6, 0, 0, 0],
);

Deno.test("image types are told by their magic bytes", () => {
  assert.equal(imageType(PNG), "image/png");
  assert.equal(imageType(bytes([0xff, 0xd8, 0xff, 0xe0])), "image/jpeg");
  assert.equal(imageType(bytes("GIF89a")), "image/gif");
  assert.equal(imageType(bytes("GIF87a")), "image/gif");
  assert.equal(imageType(bytes("RIFF", [0, 0, 0, 0], "WEBP")), "image/webp");
  assert.equal(imageType(bytes("RIFF", [0, 0, 0, 0], "WAVE")), undefined);
  assert.equal(imageType(bytes("<svg")), undefined);
  assert.equal(imageType(new Uint8Array()), undefined);
});

Deno.test("image sizes are read from PNG, GIF, JPEG and WebP headers", () => {
  assert.deepEqual(imageSize(PNG), { width: 600, height: 400 });
  assert.deepEqual(imageSize(bytes("GIF89a", [0x20, 0x03, 0x58, 0x02])), {
    width: 800,
    height: 600,
  });
  // SOI, an APP0 segment of 4 bytes, then SOF0: precision 8, height 0x0100, width 0x0200.
  const jpeg = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 17, 8, 1, 0, 2, 0, 3]);
  assert.deepEqual(imageSize(jpeg), { width: 512, height: 256 });
  const lossy = bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 ", [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x9d,
    0x01,
    0x2a,
    100,
    0,
    50,
    0,
  ]);
  assert.deepEqual(imageSize(lossy), { width: 100, height: 50 });
  // Lossless: 14 bits of width - 1, then 14 bits of height - 1, after the 0x2f signature.
  const bits = (99) | (49 << 14);
  const lossless = bytes("RIFF", [0, 0, 0, 0], "WEBPVP8L", [0, 0, 0, 0, 0x2f], [
    bits & 0xff,
    (bits >> 8) & 0xff,
    (bits >> 16) & 0xff,
    (bits >> 24) & 0xff,
  ]);
  assert.deepEqual(imageSize(lossless), { width: 100, height: 50 });
  const extended = bytes("RIFF", [0, 0, 0, 0], "WEBPVP8X", [0, 0, 0, 0, 0, 0, 0, 0], [
    99,
    0,
    0,
    49,
    0,
    0,
  ]);
  assert.deepEqual(imageSize(extended), { width: 100, height: 50 });
});

Deno.test("a header cut short or of no known type has no size", () => {
  assert.equal(imageSize(PNG.subarray(0, 18)), undefined);
  assert.equal(imageSize(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 4])), undefined);
  assert.equal(imageSize(bytes("<svg width='10'>")), undefined);
});
