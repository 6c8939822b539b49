// Floor for the benchmarks: a process started like a kernel's sandbox that spawns a bare Worker
// and echoes stdin lines through it to stdout.
const worker = new Worker(new URL("./bare_worker.ts", import.meta.url), {
  type: "module",
  deno: {
    permissions: {
      read: false,
      write: false,
      net: false,
      env: false,
      run: false,
      ffi: false,
      sys: false,
      import: false,
    },
  },
});
const encoder = new TextEncoder();
worker.onmessage = (e) => Deno.stdout.writeSync(encoder.encode(`${e.data}\n`));
let pending = "";
for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  pending += text;
  let i;
  while ((i = pending.indexOf("\n")) >= 0) {
    worker.postMessage(pending.slice(0, i));
    pending = pending.slice(i + 1);
  }
}
Deno.exit(0);
