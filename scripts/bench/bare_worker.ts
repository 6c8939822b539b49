// Floor for the benchmarks: a Worker that only echoes.
(self as unknown as Worker).onmessage = (e: MessageEvent) =>
  (self as unknown as Worker).postMessage(e.data);
(self as unknown as Worker).postMessage("ready");
