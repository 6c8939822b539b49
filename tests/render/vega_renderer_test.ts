import assert from "node:assert/strict";
import { VEGA_PERMISSIONS, VegaRenderer } from "../../src/render/vega_renderer.ts";

const BARS = {
  mark: "bar",
  encoding: {
    x: { field: "a", type: "nominal" },
    y: { field: "b", type: "quantitative" },
  },
};

Deno.test("a Vega-Lite spec with inline values is drawn to SVG with its labels", async () => {
  await using vega = new VegaRenderer();
  const { svg, warnings } = await vega.toSvg("application/vnd.vegalite.v5+json", {
    ...BARS,
    data: { values: [{ a: "Apples", b: 3 }, { a: "Pears", b: 5 }] },
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, />Apples</);
  assert.match(svg, />Pears</);
  assert.deepEqual(warnings, []);
  // Expressions run in Vega's interpreter: a calculated field is drawn all the same.
  const calculated = await vega.toSvg("application/vnd.vegalite.v6+json", {
    ...BARS,
    data: { values: [{ a: "Plums", b: 2 }] },
    transform: [{ calculate: "upper(datum.a)", as: "a" }],
  });
  assert.match(calculated.svg, />PLUMS</);
});

Deno.test("a spec whose data.url names a local file or a local listener reads neither", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mkh-vega-" });
  const csv = `${dir}/secret.csv`;
  await Deno.writeTextFile(csv, "a,b\nSECRETFILE,3\n");
  let connections = 0;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    connections++;
    return new Response("a,b\nSECRETNET,4\n");
  });
  await using vega = new VegaRenderer();
  try {
    for (const url of [csv, `file://${csv}`, `http://127.0.0.1:${server.addr.port}/data.csv`]) {
      const { svg, warnings } = await vega.toSvg("application/vnd.vegalite.v4+json", {
        ...BARS,
        data: { url, format: { type: "csv" } },
      });
      // The chart is still drawn, empty, and the refusal is said.
      assert.match(svg, /^<svg /);
      assert.doesNotMatch(svg, /SECRET/);
      assert.ok(
        warnings.some((w) => w.includes(`refused to load ${url}`)),
        warnings.join("\n"),
      );
    }
    // An image mark's URL is refused the same way.
    const image = await vega.toSvg("application/vnd.vegalite.v5+json", {
      data: { values: [{}] },
      mark: { type: "image", width: 20, height: 20 },
      encoding: { url: { value: `http://127.0.0.1:${server.addr.port}/a.png` } },
    });
    assert.doesNotMatch(image.svg, /127\.0\.0\.1/);
    assert.equal(connections, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Vega spec is drawn without compiling, and a spec given as JSON text is parsed", async () => {
  await using vega = new VegaRenderer();
  const spec = {
    width: 80,
    height: 40,
    marks: [{
      type: "text",
      encode: { enter: { text: { value: "Hello Vega" }, x: { value: 5 }, y: { value: 20 } } },
    }],
  };
  const { svg } = await vega.toSvg("application/vnd.vega.v5+json", JSON.stringify(spec));
  assert.match(svg, />Hello Vega</);
  assert.match(svg, /height="40"/);
});

Deno.test("an invalid spec or type is refused with a message that says why", async () => {
  await using vega = new VegaRenderer();
  await assert.rejects(
    vega.toSvg("application/vnd.vegalite.v5+json", [1, 2]),
    /Cannot draw a chart: the spec is no JSON object, got an array/,
  );
  await assert.rejects(
    vega.toSvg("application/vnd.vegalite.v5+json", "{not json"),
    /Cannot draw a chart: its spec is no JSON/,
  );
  await assert.rejects(
    vega.toSvg("application/vnd.vegalite.v5+json", { mark: "nonsense" }),
    /Cannot draw a chart: /,
  );
  // Vega-Lite fails inside itself on an unknown mark type: said as the spec's fault, by mark.
  await assert.rejects(
    vega.toSvg("application/vnd.vegalite.v5+json", {
      data: { values: [{ a: 1 }] },
      layer: [{ mark: "pointz", encoding: { x: { field: "a" } } }, { mark: { type: "rule" } }],
    }),
    /Cannot draw a chart: Vega-Lite could not compile the spec \(marks: "pointz", "rule"\): check its mark types/,
  );
  await assert.rejects(vega.toSvg("text/plain", {}), TypeError);
  // The Worker keeps drawing after a refusal.
  const { svg } = await vega.toSvg("application/vnd.vegalite.v5+json", {
    ...BARS,
    data: { values: [{ a: "ok", b: 1 }] },
  });
  assert.match(svg, />ok</);
});

Deno.test("in a Worker with the Vega Worker's permissions, Vega's own loader can read and fetch nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mkh-vega-perm-" });
  const csv = `${dir}/secret.csv`;
  await Deno.writeTextFile(csv, "a\nSECRET\n");
  let connections = 0;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    connections++;
    return new Response("SECRET");
  });
  // The second layer alone: Vega's default loader, as a spec would use it without ours.
  const source = 'import * as vega from "vega";\n' +
    "self.onmessage = async (e) => {\n" +
    "  const out = [];\n" +
    "  for (const uri of e.data) {\n" +
    "    try { out.push(await vega.loader().load(uri)); } catch (error) { out.push(String(error)); }\n" +
    "  }\n" +
    "  self.postMessage(out);\n" +
    "};";
  const worker = new Worker(`data:application/javascript,${encodeURIComponent(source)}`, {
    type: "module",
    deno: { permissions: VEGA_PERMISSIONS },
  });
  try {
    const { promise, resolve } = Promise.withResolvers<string[]>();
    worker.onmessage = (event) => resolve(event.data);
    worker.postMessage([csv, `http://127.0.0.1:${server.addr.port}/x.csv`]);
    const [file, net] = await promise;
    assert.match(file!, /NotCapable: Requires read access/);
    assert.match(net!, /NotCapable: Requires net access/);
    assert.equal(connections, 0);
  } finally {
    worker.terminate();
    await Deno.remove(dir, { recursive: true });
  }
});
