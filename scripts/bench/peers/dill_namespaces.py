"""The peers' snapshot figures for `deno task bench --peers`: the namespaces of the bench's
snapshot table, each built in an IPython InteractiveShell and saved the way the seed saved a
session, with `dill.dumps` of the shell's user namespace (IPython's own names left out), then
loaded with `dill.loads` into a fresh shell in a fresh process.

    python3 dill_namespaces.py dump DIR [--quick]   # prints JSON: dump medians and sizes
    python3 dill_namespaces.py load DIR [--quick]   # prints JSON: load medians

`dump` leaves each workload's pickle in DIR for `load`; `load` checks each namespace works
(functions called, methods run) after loading it. The workloads are those of `../snapshots.ts`,
in its order and sizes: `../peers.ts` pairs them by position.
"""

import json
import statistics
import sys
import time

import dill
from IPython.core.interactiveshell import InteractiveShell


def workloads(quick):
    """Label, the cell that defines the namespace, and a cell that checks it after a load."""
    n = lambda full, small: small if quick else full  # noqa: E731
    try:
        import numpy  # noqa: F401

        floats = (
            f"{n(1_000_000, 1000):,} floats in a numpy float64 array",
            f"import numpy\ndata = numpy.random.random({n(1_000_000, 1000)})",
            f"assert data.dtype == numpy.float64 and len(data) == {n(1_000_000, 1000)}",
        )
    except ImportError:
        floats = (
            f"{n(1_000_000, 1000):,} floats in an array('d')",
            "import array, random\n"
            f"data = array.array('d', (random.random() for _ in range({n(1_000_000, 1000)})))",
            f"assert data.typecode == 'd' and len(data) == {n(1_000_000, 1000)}",
        )
    last = n(1000, 10) - 1
    return [
        (
            f"{n(1000, 10):,} small variables",
            f"for i in range({n(1000, 10)}): globals()['v%d' % i] = {{'i': i, 's': 'value %d' % i}}",
            f"assert v{last} == {{'i': {last}, 's': 'value {last}'}}",
        ),
        (
            f"{n(100_000, 1000):,} records {{a, b, c: [1, 2, 3]}}",
            f"data = [{{'a': i, 'b': 'row %d' % i, 'c': [1, 2, 3]}} for i in range({n(100_000, 1000)})]",
            f"assert len(data) == {n(100_000, 1000)} and data[-1]['c'] == [1, 2, 3]",
        ),
        (
            f"{n(1_000_000, 1000):,} floats in a list",
            f"import random\ndata = [random.random() for _ in range({n(1_000_000, 1000)})]",
            f"assert len(data) == {n(1_000_000, 1000)} and isinstance(data[0], float)",
        ),
        floats,
        (
            f"{n(100_000, 1000):,} rows grouped in a dict, {n(20_000, 200):,} indexed by id in another",
            f"rows = [{{'id': i, 'g': 'g%d' % (i % 7), 'v': i / 3}} for i in range({n(100_000, 1000)})]\n"
            "by_group = {}\n"
            "for r in rows: by_group.setdefault(r['g'], []).append(r)\n"
            f"index = {{r['id']: r for r in rows[:{n(20_000, 200)}]}}",
            f"assert len(index) == {n(20_000, 200)} and index[5] is rows[5]"
            " and by_group['g0'][0] is rows[0]",
        ),
        (
            f"{n(100_000, 1000):,} rows with a datetime column",
            "import datetime\n"
            "start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)\n"
            f"rows = [{{'id': i, 'day': start + datetime.timedelta(days=i % 365), 'v': i / 3}}"
            f" for i in range({n(100_000, 1000)})]",
            f"assert len(rows) == {n(100_000, 1000)} and rows[366]['day'].day == 2",
        ),
        (
            f"{n(200, 5)} functions, a class and {n(1000, 10):,} instances",
            f"for i in range({n(200, 5)}): exec(f'def f{{i}}(a): return a + {{i}}')\n"
            "class Point:\n"
            "    def __init__(self, x, y): self.x = x; self.y = y\n"
            "    def norm(self): return (self.x ** 2 + self.y ** 2) ** 0.5\n"
            f"points = [Point(i, i + 1) for i in range({n(1000, 10)})]",
            f"assert f{n(200, 5) - 1}(1) == {n(200, 5)} and points[0].norm() == 1.0"
            " and type(points[0]) is Point",
        ),
    ]


def run(shell, cell):
    result = shell.run_cell(cell, store_history=False, silent=True)
    if not result.success:
        raise SystemExit(f"cell failed: {result.error_before_exec or result.error_in_exec!r}")


def user_namespace(shell):
    """The names a user defined: the shell's namespace without IPython's own (`In`, `_i1`...)."""
    hidden = shell.user_ns_hidden
    return {k: v for k, v in shell.user_ns.items() if k not in hidden and not k.startswith("_")}


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    reps = 1 if quick else 5
    shell = InteractiveShell.instance()
    out = {
        "python": sys.version.split()[0],
        "dill": dill.__version__,
        "ipython": __import__("IPython").__version__,
        "reps": reps,
        "workloads": [],
    }
    for index, (label, define, check) in enumerate(workloads(quick)):
        path = f"{folder}/{index}.pkl"
        shell.reset(new_session=False)
        if mode == "dump":
            run(shell, define)
            ns = user_namespace(shell)
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                body = dill.dumps(ns)
                times.append((time.perf_counter() - t) * 1000)
            with open(path, "wb") as f:
                f.write(body)
            out["workloads"].append(
                {"workload": label, "dumpMs": statistics.median(times), "bytes": len(body)}
            )
        else:
            with open(path, "rb") as f:
                body = f.read()
            times = []
            for _ in range(reps):
                shell.reset(new_session=False)
                t = time.perf_counter()
                shell.user_ns.update(dill.loads(body))
                times.append((time.perf_counter() - t) * 1000)
            run(shell, check)
            out["workloads"].append({"workload": label, "loadMs": statistics.median(times)})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
