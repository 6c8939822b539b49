/**
 * Files in and out of a kernel's scratch folder over HTTP, through real SDK clients: the
 * `upload_file` and `download_file` tools and the `kernel://` file resources, for a 2025-11-25
 * session (v1 client) and a 2026-07-28 client without one (v2 client), with the path and access
 * rules that keep them inside the caller's kernels.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { FILE_URI_TEMPLATE, fileUri } from "../../src/mcp/file_content.ts";
import { UPLOAD_CHUNK_BYTES } from "../../src/mcp/tools/upload_file.ts";
import { serveHttp } from "../_http.ts";
import { callTool, modernClient } from "../_modern.ts";

async function client(url: URL): Promise<{ client: Client; sessionId: string }> {
  const transport = new StreamableHTTPClientTransport(url);
  const c = new Client({ name: "files-test", version: "1.0.0" });
  await c.connect(transport);
  return { client: c, sessionId: transport.sessionId! };
}

type Content = { type: string; text?: string; data?: string; mimeType?: string } & {
  resource?: { uri: string; mimeType?: string; blob?: string; text?: string };
};

async function call(c: Client, name: string, args: Record<string, unknown> = {}) {
  const r = await c.callTool({ name, arguments: args });
  const content = r.content as Content[];
  return {
    isError: r.isError === true,
    content,
    text: content.map((b) => b.text ?? "").join("\n"),
    out: (r.structuredContent ?? {}) as Record<string, unknown>,
  };
}

/** About 1 MB of CSV: a header and numbered rows. */
function csv(): string {
  const rows = ["id,name,value"];
  for (let i = 0; rows.join("\n").length < 1_000_000 - 40; i += 1000) {
    for (let j = i; j < i + 1000; j++) rows.push(`${j},item-${j},${(j * 0.37).toFixed(2)}`);
  }
  return rows.join("\n") + "\n";
}

const PNG = (() => {
  const bytes = new Uint8Array(5000);
  crypto.getRandomValues(bytes);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes;
})();
const NOTES = "héllo ✓ — ünïcode\nsecond line\n";
const BLOB = new Uint8Array([0, 1, 2, 3, 255, 254, 0, 7]);

Deno.test("over HTTP, a CSV uploaded in two chunks is read by a cell; files a cell wrote download byte-exact and are listed and read as resources", async () => {
  await using s = await serveHttp();
  const { client: c } = await client(s.url);
  const data = csv();
  const bytes = new TextEncoder().encode(data);
  assert.ok(bytes.length > 990_000, `${bytes.length} bytes`);
  const half = Math.floor(bytes.length / 2);

  const first = await call(c, "upload_file", {
    path: "data.csv",
    text: new TextDecoder().decode(bytes.subarray(0, half)),
  });
  assert.equal(first.isError, false, first.text);
  assert.equal(first.out.size, half);
  const second = await call(c, "upload_file", {
    path: "data.csv",
    base64: bytes.subarray(half).toBase64(),
    offset: half,
  });
  assert.equal(second.isError, false, second.text);
  assert.equal(second.out.size, bytes.length);
  assert.match(second.text, new RegExp(`the file has ${bytes.length} bytes now`));
  const kernel = second.out.kernel as string;
  // The most one call should carry, as its description says, fits in one request.
  const most = await call(c, "upload_file", {
    path: "most.bin",
    base64: new Uint8Array(UPLOAD_CHUNK_BYTES).fill(7).toBase64(),
  });
  assert.equal(most.out.size, UPLOAD_CHUNK_BYTES, most.text);

  const read = await call(c, "execute", {
    code: 'const csv = await Deno.readTextFile("data.csv");\n' +
      'const lines = csv.trim().split("\\n");\n[csv.length, lines.length, lines.at(-1)]',
  });
  assert.equal(read.out.status, "ok", read.text);
  const lines = data.trim().split("\n");
  assert.equal(
    read.out.result,
    `[ ${data.length}, ${lines.length}, ${JSON.stringify(lines.at(-1))} ]`,
  );

  const wrote = await call(c, "execute", {
    code: 'await Deno.mkdir("out", { recursive: true });\n' +
      `await Deno.writeFile("out/plot.png", Uint8Array.fromBase64("${PNG.toBase64()}"));\n` +
      `await Deno.writeTextFile("notes.txt", ${JSON.stringify(NOTES)});\n` +
      `await Deno.writeFile("blob.bin", new Uint8Array([${BLOB.join(",")}]));`,
  });
  assert.equal(wrote.out.status, "ok", wrote.text);

  const png = await call(c, "download_file", { path: "out/plot.png" });
  assert.equal(png.isError, false, png.text);
  assert.match(png.text, /out\/plot\.png: 5,000 bytes, image\/png \(image\)\. The whole file/);
  const image = png.content.find((b) => b.type === "image")!;
  assert.equal(image.mimeType, "image/png");
  assert.deepEqual(Uint8Array.fromBase64(image.data!), PNG);

  const notes = await call(c, "download_file", { path: "notes.txt" });
  assert.equal(notes.content[1]?.text, NOTES);

  const blob = await call(c, "download_file", { path: "blob.bin" });
  assert.equal(blob.content[1]?.type, "resource");
  assert.equal(blob.content[1]?.resource?.uri, fileUri(kernel, "blob.bin"));
  assert.deepEqual(Uint8Array.fromBase64(blob.content[1]!.resource!.blob!), BLOB);

  // By pages: the first line says where to go on, and the pages join to the file.
  const pages: string[] = [];
  let offset = 0;
  for (let i = 0; i < 5 && offset < bytes.length; i++) {
    const page = await call(c, "download_file", { path: "data.csv", offset, length: 10_000 });
    pages.push(page.content[1]!.text!);
    offset = Number(/again with offset (\d+)/.exec(page.content[0]!.text!)?.[1] ?? bytes.length);
  }
  assert.equal(pages.length, 5);
  assert.equal(pages.join(""), data.slice(0, 50_000));

  const listed = (await c.listResources()).resources;
  const byUri = new Map(listed.map((r) => [r.uri, r]));
  assert.deepEqual(
    [...byUri.keys()].sort(),
    ["blob.bin", "data.csv", "most.bin", "notes.txt", "out/plot.png"].map((p) => fileUri(kernel, p))
      .sort(),
  );
  assert.equal(byUri.get(fileUri(kernel, "data.csv"))?.size, bytes.length);
  assert.equal(byUri.get(fileUri(kernel, "data.csv"))?.mimeType, "text/csv");
  assert.equal(byUri.get(fileUri(kernel, "out/plot.png"))?.name, "out/plot.png");

  const templates = (await c.listResourceTemplates()).resourceTemplates;
  assert.deepEqual(templates.map((t) => t.uriTemplate), [FILE_URI_TEMPLATE]);

  const notesResource = await c.readResource({ uri: fileUri(kernel, "notes.txt") });
  assert.deepEqual(notesResource.contents, [
    { uri: fileUri(kernel, "notes.txt"), mimeType: "text/plain", text: NOTES },
  ]);
  const pngResource = await c.readResource({ uri: fileUri(kernel, "out/plot.png") });
  const content = pngResource.contents[0] as { blob: string; mimeType: string };
  assert.equal(content.mimeType, "image/png");
  assert.deepEqual(Uint8Array.fromBase64(content.blob), PNG);
  await c.close();
});

Deno.test("a 2 MB text file downloads in pages within the output budget, which join to it byte-exact, multi-byte characters at their edges", async () => {
  await using s = await serveHttp();
  const { client: c } = await client(s.url);
  // One-, two-, three- and four-byte characters (the last a surrogate pair), quotes and
  // newlines (which JSON escapes), in a cycle that no page length divides.
  const row = 'id,"naïve €",𝄞\\x,\t';
  const code = `const row = ${JSON.stringify(row)};\n` +
    "let text = ''; for (let i = 0; text.length < 1_700_000; i++) text += row + i + '\\n';\n" +
    'await Deno.writeTextFile("out.csv", text); text.length';
  const wrote = await call(c, "execute", { code });
  assert.equal(wrote.out.status, "ok", wrote.text);
  let text = "";
  for (let i = 0; text.length < 1_700_000; i++) text += row + i + "\n";
  const bytes = new TextEncoder().encode(text);
  assert.ok(bytes.length > 2_000_000, `${bytes.length} bytes`);

  const pages: Uint8Array[] = [];
  let edgesInsideMultiByte = 0;
  let offset = 0;
  while (offset < bytes.length) {
    const page = await call(c, "download_file", { path: "out.csv", offset });
    assert.equal(page.isError, false, page.text);
    const body = page.content[1]!.text!;
    assert.ok(page.text.length <= 20_000, `page at ${offset}: ${page.text.length} characters`);
    assert.ok(JSON.stringify(page.out).length <= 20_000, `structured page at ${offset}`);
    assert.equal(page.out.offset, offset);
    assert.equal(page.out.text, body);
    pages.push(new TextEncoder().encode(body));
    const end = page.out.end as number;
    assert.equal(end, offset + pages.at(-1)!.length);
    if (end < bytes.length) {
      assert.equal(page.out.next_offset, end);
      assert.match(
        page.content[0]!.text!,
        new RegExp(
          `cut at the output budget of 20,000 characters per result\\. ` +
            `[\\d,]+ bytes remain: call download_file again with offset ${end} ` +
            `\\(text comes at most 20,000 characters per call\\)`,
        ),
      );
      if (bytes[end - 1]! >= 0x80 || bytes[end]! >= 0x80) edgesInsideMultiByte++;
    } else {
      assert.equal(page.out.next_offset, undefined);
    }
    offset = end;
  }
  assert.ok(pages.length >= 80, `${pages.length} pages`);
  assert.ok(
    edgesInsideMultiByte > 5,
    `${edgesInsideMultiByte} page edges next to a multi-byte character`,
  );
  const joined = new Uint8Array(bytes.length);
  pages.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
  assert.deepEqual(joined, bytes);
  await c.close();
});

Deno.test("over HTTP, .., absolute paths and a symbolic link out of the kernel's folder are refused, and a cell cannot make such a link", async () => {
  await using s = await serveHttp();
  const { client: c } = await client(s.url);
  const made = await call(c, "execute", {
    code:
      'await Deno.writeTextFile("mine.txt", "ok");\nawait Deno.symlink("/etc/hostname", "link")',
  });
  assert.equal(made.out.status, "error", "the sandbox refuses to create a symbolic link");
  assert.match(made.text, /NotCapable: Deno\.symlink\(\) requires unscoped --allow-read/);
  const kernel = made.out.kernel as string;
  for (
    const code of [
      'await (await import("node:fs/promises")).symlink("/etc/hostname", "link")',
      'await Deno.link("/etc/hostname", "hard")',
    ]
  ) {
    const r = await call(c, "execute", { code });
    assert.equal(r.out.status, "error", `${code}: ${r.text}`);
    assert.match(r.text, /NotCapable/, r.text);
  }

  // A link planted from outside (as the host could): it leads to a secret beside the folder.
  const secret = join(s.dataDir, "secret.txt");
  await Deno.writeTextFile(secret, "host secret");
  await Deno.symlink(secret, join((await s.host.scratchDir(kernel))!, "leak.txt"));

  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    ["download_file", "../secret.txt", {}, /contains "\.\.": a path cannot leave/],
    ["download_file", "../../../secret.txt", {}, /contains "\.\."/],
    ["download_file", secret, {}, /is absolute: paths are relative to the kernel's folder/],
    ["download_file", "leak.txt", {}, /leads out of the kernel's folder through a symbolic link/],
    ["upload_file", "../evil.txt", { text: "x" }, /contains "\.\."/],
    ["upload_file", "/tmp/evil.txt", { text: "x" }, /is absolute/],
    ["upload_file", "leak.txt", { text: "overwritten" }, /symbolic link \(leak\.txt\)/],
  ];
  for (const [tool, path, args, message] of cases) {
    const r = await call(c, tool, { path, ...args });
    assert.equal(r.isError, true, `${tool} ${path}: ${r.text}`);
    assert.match(r.text, message);
    assert.doesNotMatch(r.text, /host secret/);
  }
  assert.equal(await Deno.readTextFile(secret), "host secret", "the secret is unchanged");
  const neither = await call(c, "upload_file", { path: "x.txt" });
  assert.match(neither.text, /give exactly one of `text` and `base64`/);
  const garbled = await call(c, "upload_file", { path: "x.txt", base64: "not base64!" });
  assert.match(garbled.text, /`base64` is not valid base64/);
  await assert.rejects(Deno.stat(join((await s.host.scratchDir(kernel))!, "..", "evil.txt")));

  await assert.rejects(
    c.readResource({ uri: `kernel://${kernel}/files/..%2F..%2Fsecret.txt` }),
    /contains "\.\."/,
  );
  await assert.rejects(
    c.readResource({ uri: fileUri(kernel, "leak.txt") }),
    /leads out of the kernel's folder through a symbolic link/,
  );
  await assert.rejects(c.readResource({ uri: fileUri(kernel, "none.txt") }), /No file "none\.txt"/);
  const listed = (await c.listResources()).resources.map((r) => r.uri);
  assert.deepEqual(listed, [fileUri(kernel, "mine.txt")], "the link is not listed");

  // A file above one reply's limit is paged by download_file; a resource read says so.
  await call(c, "execute", { code: 'await Deno.writeFile("big.bin", new Uint8Array(3_000_000))' });
  await assert.rejects(
    c.readResource({ uri: fileUri(kernel, "big.bin") }),
    /big\.bin has 3000000 bytes, more than one read carries \(2097152\): page through it/,
  );
  const big = await call(c, "download_file", { path: "big.bin" });
  assert.match(big.text, /902,848 bytes remain: call download_file again with offset 2097152/);
  assert.equal(Uint8Array.fromBase64(big.content[1]!.resource!.blob!).length, 2097152);
  await c.close();
});

Deno.test("over HTTP, another session neither lists nor reads the files of a kernel it has no handle for", async () => {
  await using s = await serveHttp();
  const a = await client(s.url);
  const b = await client(s.url);
  const up = await call(a.client, "upload_file", { path: "private.csv", text: "a,b\n1,2\n" });
  const kernelA = up.out.kernel as string;
  await call(b.client, "upload_file", { path: "b.txt", text: "B" });

  const listB = (await b.client.listResources()).resources.map((r) => r.uri);
  assert.equal(listB.length, 1);
  assert.ok(!listB.some((u) => u.includes(kernelA)), "B's list shows nothing of A's");

  // A session id is not a kernel handle, and an invented one names nothing.
  for (const kernel of [a.sessionId, "A".repeat(43)]) {
    const r = await call(b.client, "download_file", { path: "private.csv", kernel });
    assert.equal(r.isError, true);
    assert.match(r.text, /No kernel with id/);
    await assert.rejects(
      b.client.readResource({ uri: fileUri(kernel, "private.csv") }),
      /No kernel with id/,
    );
  }
  // The handle is the capability, as for every tool: once A hands it over, B reads the file.
  const shared = await b.client.readResource({ uri: fileUri(kernelA, "private.csv") });
  assert.equal((shared.contents[0] as { text: string }).text, "a,b\n1,2\n");
  await a.client.close();
  await b.client.close();
});

Deno.test("a 2026-07-28 client uploads to and downloads from a kernel by handle; resources/list shows only the template", async () => {
  await using s = await serveHttp();
  const c = await modernClient(s.url);
  const kernel = (await callTool(c, "create_kernel")).out.kernel as string;
  const up = await callTool(c, "upload_file", { path: "in/data.csv", text: "x\n1\n2\n", kernel });
  assert.equal(up.isError, false, up.text);
  assert.equal(up.out.size, 6);
  const cell = await callTool(c, "execute", {
    code: 'const t = await Deno.readTextFile("in/data.csv");\n' +
      `await Deno.writeFile("out.png", Uint8Array.fromBase64("${PNG.toBase64()}"));\nt.length`,
    kernel,
  });
  assert.equal(cell.out.result, "6", cell.text);

  const r = await c.callTool({ name: "download_file", arguments: { path: "out.png", kernel } });
  const image = (r.content as Content[]).find((b) => b.type === "image")!;
  assert.deepEqual(Uint8Array.fromBase64(image.data!), PNG);
  const noHandle = await callTool(c, "download_file", { path: "out.png" });
  assert.equal(noHandle.isError, true);
  assert.match(noHandle.text, /pass `kernel` with the handle/);

  assert.deepEqual((await c.listResources()).resources, [], "no session: nothing to list");
  const templates = (await c.listResourceTemplates()).resourceTemplates;
  assert.deepEqual(templates.map((t) => t.uriTemplate), [FILE_URI_TEMPLATE]);
  const read = await c.readResource({ uri: fileUri(kernel, "in/data.csv") });
  assert.deepEqual(read.contents, [
    { uri: fileUri(kernel, "in/data.csv"), mimeType: "text/csv", text: "x\n1\n2\n" },
  ]);
  await c.close();
});
