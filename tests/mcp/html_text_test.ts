import assert from "node:assert/strict";
import { htmlText } from "../../src/mcp/html_text.ts";

Deno.test("HTML becomes the text a browser shows: blocks as lines, tables as cells, lists as items", () => {
  assert.equal(
    htmlText(
      "<h1>Sales</h1><p>Hello <b>world</b> &amp; &lt;you&gt; &#233;&#x2014;&nbsp;ok</p>" +
        "<ul><li>one</li><li>two</li></ul>" +
        "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>" +
        "line<br>break",
    ),
    "Sales\nHello world & <you> é— ok\n- one\n- two\na | b\n1 | 2\nline\nbreak",
  );
});

Deno.test("scripts, styles and comments are dropped, and unknown references kept", () => {
  assert.equal(
    htmlText(
      "<style>p { color: red }</style><script>alert('x')</script><!-- hidden --><p>&bogus; shown</p>",
    ),
    "&bogus; shown",
  );
});
