"""How fast verify answers: one formula in-process, the whole CLI call, and batch throughput.

    .venv/bin/python benchmarks/bench_verify.py [--batch N]

Targets (issue 5): a typical formula in under 0.3 s in-process, the whole CLI call (Python start,
imports, parse, derive, compare, print) under 1.5 s.  Batch throughput is in formulas per second
on every core, for a class's mix of right answers, mistakes and unreadable lines.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from symbackprop.spec import Network
from symbackprop.verifier import grade_file, verify

ROOT = Path(__file__).resolve().parents[1]

TYPICAL = [
    ("lectures' chain (1-1-1-1)", r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)",
     Network.parse()),
    ("indexed weight (3-4-2)", r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) "
     r"2(a^{(L)}_j - y_j)", Network.parse("3,4,2")),
    ("sum over paths (3-4-2)", r"\frac{\partial C_0}{\partial a^{(L-1)}_k} = \sum_j w^{(L)}_{jk} \sigma'(z^{(L)}_j) "
     r"2(a^{(L)}_j - y_j)", Network.parse("3,4,2")),
    ("BP2 for every l, wrong (3-4-2)", r"\delta^l_j = \sum_k w^{l+1}_{jk} \delta^{l+1}_k \sigma'(z^l_j)",
     Network.parse("3,4,2")),
    ("matrix BP2 (784-256-10)", r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)",
     Network.parse("784,256,10")),
    ("σ for σ', diagnosed (1-1-1-1)", r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)",
     Network.parse()),
]


def in_process(repeats=7):
    print("in-process verify (median of %d, after one warm-up call per network)" % repeats)
    print(f"  {'formula':34} {'verdict':>15} {'ms':>8}")
    worst = 0.0
    for name, formula, network in TYPICAL:
        verify(formula, network)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = verify(formula, network)
            times.append(time.perf_counter() - start)
        t = statistics.median(times)
        worst = max(worst, t)
        print(f"  {name:34} {result.verdict:>15} {t * 1e3:8.1f}")
    return worst


def first_call():
    """A fresh interpreter: imports, grammar, derive and points all from cold, without the CLI."""
    code = ("import time; t = time.perf_counter(); from symbackprop.verifier import verify; "
            f"verify({TYPICAL[0][1]!r}); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip())


def cli(repeats=5):
    cmd = [sys.executable, "-m", "symbackprop", "verify", TYPICAL[0][1]]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def batch(n):
    mix = [f for _, f, net in TYPICAL if net.sizes == (1, 1, 1, 1)] + [
        r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) (a^{(L)} - y)",
        r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(y - a^{(L)})",
        r"\frac{\partial C_0}{\partial a^{(L-1)}} = w^{(L)} \sigma'(z^{(L)}) 2(a^{(L)} - y)",
        r"\frac{\partial C_0}{\partial w^{(L-1)}} = a^{(L-2)} \sigma'(z^{(L-1)}) w^{(L)} \sigma'(z^{(L)}) 2(a^{(L)} - y)",
        r"\frac{\partial C}{\partial w} = (a",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "class.jsonl", Path(tmp) / "results.jsonl"
        src.write_text("".join(json.dumps({"id": i, "formula": mix[i % len(mix)]}) + "\n" for i in range(n)))
        summary = grade_file(str(src), str(dst))
    return summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=400, help="lines in the batch (default 400)")
    args = parser.parse_args()
    worst = in_process()
    print(f"  slowest typical formula: {worst * 1e3:.1f} ms (target < 300 ms)")
    print(f"\nfirst verify in a fresh interpreter (imports + grammar + derive): {first_call() * 1e3:.0f} ms")
    t = cli()
    print(f"whole CLI call `symbackprop verify '...'` (median of 5): {t:.2f} s (target < 1.5 s)")
    summary = batch(args.batch)
    print(f"\nbatch: {summary.text()}")
    print(f"  {summary.per_second:.0f} formulas/s on {summary.workers} of {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
