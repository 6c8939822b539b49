/** The serial Worker the renderers share: order, timeouts, restarts, close. */
import assert from "node:assert/strict";
import { SerialWorker, type SerialWorkerOptions } from "../../src/render/serial_worker.ts";

type Job = { op: "echo" | "hang" | "crash" | "fail"; value?: string; delayMs?: number };
type Done = { value: string; served: number };

function open(options: Partial<SerialWorkerOptions> = {}): SerialWorker<Job, Done> {
  return new SerialWorker<Job, Done>({
    url: new URL("./_serial_test_worker.ts", import.meta.url),
    name: "serial-test",
    timeoutMs: 5_000,
    failure: "Cannot test",
    damaging: (message) => message.includes("damaged"),
    ...options,
  });
}

Deno.test("jobs run one at a time in the order given, the slower first ones included", async () => {
  await using worker = open();
  const delays = [40, 30, 20, 10, 0];
  const done = await Promise.all(
    delays.map((delayMs, i) => worker.run({ op: "echo", value: `job ${i}`, delayMs })),
  );
  // One Worker served them all, in order: had two run at once, the shorter would answer first.
  assert.deepEqual(done, delays.map((_, i) => ({ value: `job ${i}`, served: i })));
});

Deno.test("a job past its time ends the Worker; the next job gets a fresh one and works", async () => {
  await using worker = open({ timeoutMs: 300 });
  assert.deepEqual(await worker.run({ op: "echo", value: "a" }), { value: "a", served: 0 });
  const hung = worker.run({ op: "hang" });
  const after = worker.run({ op: "echo", value: "b" });
  await assert.rejects(hung, { message: "Cannot test: it took more than 300 ms" });
  // `served` starts again from 0: a new Worker answered.
  assert.deepEqual(await after, { value: "b", served: 0 });
});

Deno.test("a reported failure rejects with its message; one called damaging restarts the Worker", async () => {
  await using worker = open();
  await worker.run({ op: "echo", value: "a" });
  await assert.rejects(worker.run({ op: "fail", value: "bad spec" }), {
    message: "Cannot test: bad spec",
  });
  assert.equal((await worker.run({ op: "echo", value: "b" })).served, 1, "same Worker");
  await assert.rejects(worker.run({ op: "fail", value: "damaged memory" }), {
    message: "Cannot test: damaged memory",
  });
  assert.equal((await worker.run({ op: "echo", value: "c" })).served, 0, "a fresh Worker");
});

Deno.test("an uncaught error in the Worker rejects the job running; the next one works", async () => {
  await using worker = open();
  await assert.rejects(worker.run({ op: "crash" }), /^Error: Cannot test: the renderer failed: /);
  assert.deepEqual(await worker.run({ op: "echo", value: "a" }), { value: "a", served: 0 });
});

Deno.test("close rejects the job running and those waiting at once, and every later one", async () => {
  const worker = open({ timeoutMs: 60_000 });
  const running = worker.run({ op: "hang" });
  const waiting = worker.run({ op: "echo", value: "never" });
  // Let the first job reach the Worker.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await worker.close();
  const closed = { message: "Cannot test: the renderer is closed" };
  await assert.rejects(running, closed);
  await assert.rejects(waiting, closed);
  // Had close waited for the hung job, it would have ended by its 60 s timeout, not "closed".
  await assert.rejects(worker.run({ op: "echo", value: "later" }), closed);
});
