"""The peers' kernel figures for `deno task bench --peers`: a Jupyter kernel (ipykernel, via
jupyter_client's KernelManager and its blocking client) started to its first `execute_reply`,
the resident memory of an idle one after one cell, and a trivial cell's round trip.

    python3 jupyter_kernel.py STARTS CELLS   # prints JSON: the samples, in ms and MB

A start is the manager's `start_kernel`, the client's channels, `wait_for_ready` (a
`kernel_info` round trip, as notebook clients do) and `execute('1')` to its reply. A trivial
cell is `execute('x = x + 1')` to its `execute_reply`; the cell's IOPub messages (busy,
input, idle) are read after each, outside the timing.
"""

import json
import os
import sys
import time

import jupyter_client
from jupyter_client import KernelManager


def start():
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def execute(kc, code):
    """Sends `code`, waits for its `execute_reply` and returns the ms that took."""
    t = time.perf_counter()
    msg_id = kc.execute(code)
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    elapsed = (time.perf_counter() - t) * 1000
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"{code!r} failed: {reply['content']}")
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            return elapsed


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def resident_mb(pid):
    """The resident set of `pid` in MB, from /proc/PID/statm as the bench reads its own."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    starts, cells = int(sys.argv[1]), int(sys.argv[2])
    out = {"jupyter_client": jupyter_client.__version__, "start": [], "cell": []}
    for _ in range(starts):
        t = time.perf_counter()
        km, kc = start()
        execute(kc, "1")
        out["start"].append((time.perf_counter() - t) * 1000)
        stop(km, kc)
    km, kc = start()
    try:
        import ipykernel

        out["ipykernel"] = ipykernel.__version__
        execute(kc, "x = 0")
        time.sleep(0.5)  # as the bench lets its own kernels settle before reading memory
        out["idleMb"] = resident_mb(km.provisioner.pid)
        for _ in range(cells):
            out["cell"].append(execute(kc, "x = x + 1"))
    finally:
        stop(km, kc)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
