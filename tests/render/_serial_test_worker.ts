/**
 * Test helper: a Worker speaking the serial-worker protocol. It numbers the jobs it served since
 * it started (`served`), so a test sees when it was restarted; `op` says what a job does.
 */
const scope = self as unknown as Worker;
let served = 0;

scope.addEventListener("message", async (event: MessageEvent) => {
  const { id, op, value, delayMs } = event.data;
  if (op === "hang") { while (true) { /* until the host ends this Worker */ } }
  if (op === "crash") {
    setTimeout(() => {
      throw new Error("crashed");
    });
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, delayMs ?? 0));
  if (op === "fail") {
    scope.postMessage({ id, ok: false, message: value });
    return;
  }
  scope.postMessage({ id, ok: true, value, served: served++ });
});
