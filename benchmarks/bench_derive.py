"""How the derivation's cost grows: flat in layer width, linear in depth.

    .venv/bin/python benchmarks/bench_derive.py

Prints the time of ``derive(network)`` (median of repeats) against depth (2 … 128 weight
layers, width 8) and against width (1 … 4096, depth 3), each with its ratio to the first row.
"""

import statistics
import sys
import time

from symbackprop.derivation import derive
from symbackprop.spec import Network


def timed(network, repeats):
    derive(network)  # warm SymPy's caches the same way for every row
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        derive(network)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def table(title, rows, label):
    print(f"\n{title}")
    print(f"  {label:>8}  {'derive (ms)':>12}  {'ratio':>7}  {'per layer (ms)':>15}")
    first = None
    for value, network in rows:
        t = timed(network, repeats=5 if network.depth <= 32 else 3)
        first = first or t
        print(f"  {value:>8}  {t * 1e3:>12.1f}  {t / first:>7.2f}  {t * 1e3 / network.depth:>15.2f}")
        sys.stdout.flush()


def main():
    depths = [2, 4, 8, 16, 32, 64, 128]
    widths = [1, 16, 256, 1024, 4096]
    table("derive time against depth (width 8)", [(d, Network.parse(",".join(["8"] * (d + 1)))) for d in depths],
          "depth")
    table("derive time against width (depth 3)", [(w, Network.parse(f"{w},{w},{w},{w}")) for w in widths],
          "width")


if __name__ == "__main__":
    main()
