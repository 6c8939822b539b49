/**
 * Rich display end to end: cells use Deno's notebook API, and the SDK's real Client receives
 * images as MCP `image` content and text as text (over Streamable HTTP, with a real host).
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { serveHttp } from "./_http.ts";
import { connectStdio } from "./_stdio.ts";
import { decodePng, paintedPixels, pngSize, RED_PNG } from "./_png.ts";

type Block = { type: "text"; text: string } | { type: "image"; data: string; mimeType: string };

interface Ran {
  isError: boolean;
  content: Block[];
  structured?: Record<string, unknown>;
}

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: "rich-display-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

async function run(client: Client, code: string): Promise<Ran> {
  const r = await client.callTool({ name: "execute", arguments: { code } });
  return {
    isError: r.isError === true,
    content: r.content as Block[],
    structured: r.structuredContent as Record<string, unknown> | undefined,
  };
}

function images(ran: Ran): Uint8Array[] {
  return ran.content.flatMap((b) => b.type === "image" ? [Uint8Array.fromBase64(b.data)] : []);
}

function text(ran: Ran): string {
  return ran.content.flatMap((b) => b.type === "text" ? [b.text] : []).join("\n");
}

Deno.test("a PNG made in a cell reaches the client as image content of its own bytes", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  // With an output schema, the SDK would refuse a result without structured content.
  const { tools } = await client.listTools();
  assert.equal(tools.find((t) => t.name === "execute")?.outputSchema, undefined);
  const ran = await run(
    client,
    `const bytes = new Uint8Array(${JSON.stringify(RED_PNG)});\nDeno.jupyter.image(bytes)`,
  );
  assert.equal(ran.isError, false, text(ran));
  const [png, ...more] = images(ran);
  assert.equal(more.length, 0);
  assert.deepEqual(pngSize(png!), { width: 4, height: 3 });
  assert.deepEqual([...png!], RED_PNG);
  assert.equal(ran.content.find((b) => b.type === "image")?.mimeType, "image/png");
  // A result with images has no structured content: its text says everything.
  assert.equal(ran.structured, undefined);
  assert.match(text(ran), /^\[1\] ok \(/);
  assert.match(text(ran), /Out\[1\]:/);
  assert.match(text(ran), /kernel: \S+/);
  // Image bytes as a cell's value are an image too, as in Deno's notebooks.
  assert.deepEqual([...images(await run(client, "bytes"))[0]!], RED_PNG);
  await client.close();
});

Deno.test("an SVG from Deno.jupyter.svg arrives as a PNG of its size with its text drawn", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  const ran = await run(
    client,
    "Deno.jupyter.svg`<svg xmlns='http://www.w3.org/2000/svg' width='240' height='60'>" +
      "<text x='10' y='40' font-size='24' font-family='sans-serif'>Axis label</text></svg>`",
  );
  assert.equal(ran.isError, false, text(ran));
  const [png] = images(ran);
  const decoded = await decodePng(png!);
  assert.deepEqual({ width: decoded.width, height: decoded.height }, { width: 240, height: 60 });
  // Only the text is drawn: without a font, every pixel would stay white.
  assert.ok(paintedPixels(decoded) > 200, `painted ${paintedPixels(decoded)} pixels`);
  assert.doesNotMatch(text(ran), /scaled/);
  // An element as d3 on linkedom makes one is drawn too, as Deno's format finds it.
  const element = await run(
    client,
    `({ outerHTML: '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="40"><circle r="9"/></svg>' })`,
  );
  assert.deepEqual(pngSize(images(element)[0]!), { width: 50, height: 40 });
  await client.close();
});

Deno.test("an Observable Plot chart made on linkedom (an SVG without xmlns) arrives as a PNG with its labels", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  const ran = await run(
    client,
    "import * as Plot from 'npm:@observablehq/plot@0.6.17'; " +
      "import { parseHTML } from 'npm:linkedom@0.18.12';\n" +
      "const { document } = parseHTML('<html></html>');\n" +
      "Plot.plot({ document, width: 400, height: 240, marks: [Plot.barY([3, 1, 2])] })",
  );
  assert.equal(ran.isError, false, text(ran));
  assert.doesNotMatch(text(ran), /not shown/);
  const [png] = images(ran);
  assert.ok(png, `an image: ${text(ran)}`);
  const decoded = await decodePng(png);
  assert.deepEqual({ width: decoded.width, height: decoded.height }, { width: 400, height: 240 });
  assert.ok(paintedPixels(decoded) > 2000, `painted ${paintedPixels(decoded)} pixels`);
  await client.close();
});

Deno.test("a $display object's markdown arrives as text, with structured content", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  const ran = await run(
    client,
    `class Report {
       rows = 3;
       [Deno.jupyter.$display]() { return { "text/markdown": "# Report\\n\\n" + this.rows + " rows" }; }
     }
     new Report()`,
  );
  assert.equal(ran.isError, false);
  assert.deepEqual(ran.content.map((b) => b.type), ["text"]);
  assert.match(text(ran), /Out\[1\]: # Report\n\n3 rows/);
  assert.equal(ran.structured?.result_text, "# Report\n\n3 rows");
  assert.equal(ran.structured?.result, "Report { rows: 3 }");
  await client.close();
});

Deno.test("several displays in one cell arrive in order, then the value", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  const ran = await run(
    client,
    `const { md, html, svg } = Deno.jupyter;
     display(md\`**first**\`);
     await Deno.jupyter.display(svg\`<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="30" height="20"/></svg>\`);
     display(html\`<p>third &amp; <b>bold</b></p>\`);
     await display({ "text/plain": "fourth" }, { raw: true });
     Deno.jupyter.image(new Uint8Array(${JSON.stringify(RED_PNG)}))`,
  );
  assert.equal(ran.isError, false, text(ran));
  assert.deepEqual(ran.content.map((b) => b.type), ["text", "image", "text", "image", "text"]);
  const [head, , middle, , tail] = ran.content as { text: string }[];
  assert.match(head!.text, /\*\*first\*\*$/);
  assert.match(middle!.text, /^third & bold\nfourth\nOut\[1\]:$/);
  assert.match(tail!.text, /^kernel: /);
  const [drawn, own] = images(ran);
  assert.deepEqual(pngSize(drawn!), { width: 30, height: 20 });
  assert.deepEqual([...own!], RED_PNG);
  await client.close();
});

Deno.test("an SVG larger than the bounds is scaled down, keeping its aspect ratio, with a note", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  const ran = await run(
    client,
    "Deno.jupyter.svg`<svg xmlns='http://www.w3.org/2000/svg' width='20000' height='1000'>" +
      "<rect width='20000' height='1000' fill='teal'/></svg>`",
  );
  assert.equal(ran.isError, false, text(ran));
  assert.deepEqual(pngSize(images(ran)[0]!), { width: 8000, height: 400 });
  assert.match(text(ran), /image\/svg\+xml of 20000×1000 px scaled to 8000×400 px/);
  await client.close();
});

Deno.test("over stdio, as Claude Code and Desktop connect, a chart arrives as a PNG image", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-rich-stdio-" });
  try {
    await using s = await connectStdio(["--data-dir", dataDir]);
    const ran = await run(
      s.client,
      "await display(Deno.jupyter.md`## Chart`);\n" +
        "Deno.jupyter.svg`<svg xmlns='http://www.w3.org/2000/svg' width='120' height='80'>" +
        "<rect width='120' height='80' fill='navy'/><text x='10' y='50'>Q1</text></svg>`",
    );
    assert.equal(ran.isError, false, text(ran));
    assert.deepEqual(ran.content.map((b) => b.type), ["text", "image", "text"]);
    assert.match(text(ran), /## Chart\nOut\[1\]:/);
    assert.deepEqual(pngSize(images(ran)[0]!), { width: 120, height: 80 });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a Vega-Lite bar chart displayed in a cell arrives as a PNG of its size with its axis labels drawn", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  // Without autosize, the plot is 300×200 px and the axes are drawn in the padding around it.
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 300,
    height: 200,
    autosize: "none",
    padding: { left: 60, right: 10, top: 10, bottom: 60 },
    data: {
      values: [{ fruit: "Apples", n: 3 }, { fruit: "Pears", n: 5 }, { fruit: "Figs", n: 2 }],
    },
    mark: "bar",
    encoding: {
      x: { field: "fruit", type: "nominal" },
      y: { field: "n", type: "quantitative" },
    },
  };
  const ran = await run(
    client,
    `const spec = ${JSON.stringify(spec)};\n` +
      `await Deno.jupyter.display({ "application/vnd.vegalite.v5+json": spec }, { raw: true });`,
  );
  assert.equal(ran.isError, false, text(ran));
  assert.doesNotMatch(text(ran), /not shown|warnings/);
  const [png, ...more] = images(ran);
  assert.ok(png, `an image: ${text(ran)}`);
  assert.equal(more.length, 0);
  const decoded = await decodePng(png);
  assert.deepEqual({ width: decoded.width, height: decoded.height }, { width: 370, height: 270 });
  // Tick labels and titles left of and below the plot: no font, and these stay white.
  const yAxis = paintedPixels(decoded, { x0: 0, y0: 10, x1: 55, y1: 210 });
  const xAxis = paintedPixels(decoded, { x0: 60, y0: 215, x1: 360, y1: 270 });
  assert.ok(yAxis > 150, `y axis: ${yAxis} painted pixels`);
  assert.ok(xAxis > 300, `x axis: ${xAxis} painted pixels`);
  // The bars.
  assert.ok(paintedPixels(decoded, { x0: 60, y0: 10, x1: 360, y1: 210 }) > 10_000);
  await client.close();
});

Deno.test("a bare Vega-Lite spec displayed, raw or not, arrives as a PNG, and display's promise is no Out[n]", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 200,
    height: 100,
    autosize: "none",
    data: { values: [{ k: "a", n: 3 }, { k: "b", n: 5 }] },
    mark: "bar",
    encoding: { x: { field: "k", type: "nominal" }, y: { field: "n", type: "quantitative" } },
  };
  await run(client, `const spec = ${JSON.stringify(spec)};`);
  for (
    const call of ["display(spec, { raw: true })", "Deno.jupyter.display(spec)", "display(spec)"]
  ) {
    const ran = await run(client, call);
    assert.equal(ran.isError, false, text(ran));
    assert.doesNotMatch(text(ran), /not shown|Promise|Out\[/, call);
    const [png, ...more] = images(ran);
    assert.ok(png, `${call}: an image, got ${text(ran)}`);
    assert.equal(more.length, 0);
    // Vega pads the 200×100 plot by 5 px on each side.
    assert.deepEqual(pngSize(png), { width: 210, height: 110 }, call);
  }
  // A raw bundle none of whose keys is a MIME type is refused with what raw expects.
  const wrong = await run(client, "display({ mark: 'bar', data: {} }, { raw: true })");
  assert.equal(wrong.isError, true);
  assert.match(
    text(wrong),
    /TypeError: display\(value, \{ raw: true \}\) expects a MIME bundle, an object keyed by MIME type such as \{ "text\/html": "<b>hi<\/b>" \} or \{ "application\/vnd\.vegalite\.v5\+json": spec \}; got an object with keys mark, data, none of them a MIME type/,
  );
  // A cell's own value that is a spec still shows its text, for the model to read.
  const value = await run(client, "spec");
  assert.equal(images(value).length, 0);
  assert.match(text(value), /Out\[\d+\]: \{\n {2}"?\$schema"?: "https:\/\/vega\.github\.io/);
  await client.close();
});

Deno.test("a chart whose data.url names a host file or a local listener is drawn without reading either", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mkh-vega-e2e-" });
  const csv = `${dir}/secret.csv`;
  await Deno.writeTextFile(csv, "fruit,n\nSecret,9\n");
  let connections = 0;
  await using listener = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    connections++;
    return new Response("fruit,n\nSecret,9\n");
  });
  await using s = await serveHttp();
  const client = await connect(s.url);
  try {
    const chart = (data: unknown) =>
      JSON.stringify({
        data,
        mark: "bar",
        encoding: {
          x: { field: "fruit", type: "nominal" },
          y: { field: "n", type: "quantitative" },
        },
      });
    const ran = await run(
      client,
      `await display({ "application/vnd.vegalite.v5+json": ${
        chart({ url: csv })
      } }, { raw: true });\n` +
        `await display({ "application/vnd.vegalite.v5+json": ${
          chart({ url: `http://127.0.0.1:${listener.addr.port}/d.csv`, format: { type: "csv" } })
        } }, { raw: true });\n` +
        `await display({ "application/vnd.vegalite.v5+json": ${
          chart({ values: [{ fruit: "Inline", n: 4 }] })
        } }, { raw: true });`,
    );
    assert.equal(ran.isError, false, text(ran));
    // Three charts drawn: two empty, with a note of the refused load, and the inline one.
    assert.equal(images(ran).length, 3, text(ran));
    assert.match(text(ran), new RegExp(`refused to load ${csv}.*put it in data\\.values`));
    assert.match(text(ran), /refused to load http:\/\/127\.0\.0\.1:\d+\/d\.csv/);
    assert.equal(connections, 0);
    const [fromFile, , inline] = await Promise.all(images(ran).map(decodePng));
    // The inline chart has a bar; the refused one has only its axes.
    assert.ok(paintedPixels(inline!) > paintedPixels(fromFile!) + 1000);
  } finally {
    await client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
