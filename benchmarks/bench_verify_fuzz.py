"""verify on 100,000 fuzzed inputs: no crash, nothing past the time limit, and how long calls take.

    .venv/bin/python benchmarks/bench_verify_fuzz.py [-n 100000] [--workers 2] [--time-limit 2] [--seed 0]

The inputs are drawn (seeded, so every run sees the same ones) from the families of
``tests/verify_fuzz_families.py``: towers of exponentials, nested sums over one chain of
letters, powers of ∇ₐC, stray C, Cₓ and i, huge integer literals, deep nesting, long products,
control characters, right-hand sides that are not finite real numbers, the accepted notation
(right or changed), token soup, random text and mutated right answers, on eight networks.

Each input is verified in-process in a worker process (one per core), with verify's hard time
limit.  A *crash* is any exception other than a FormulaError, or a FormulaError whose message is
not one line; an *over-limit* call is one that reaches the time limit (the "too costly to decide
within" message, or as long as the limit).  Both must be 0.  It prints the counts, the time
distribution (p50, p90, p99, p99.9, max) overall and per family, the CPU time per call (which the
load of other processes does not inflate), and the slowest inputs.
"""

import argparse
import collections
import multiprocessing
import os
import sys
import time
import traceback
from pathlib import Path

from lark.exceptions import VisitError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from verify_fuzz_families import FAMILIES, NETWORKS, RandomDraw, fuzzed  # noqa: E402

from symbackprop.errors import FormulaError  # noqa: E402
from symbackprop.spec import Network  # noqa: E402
from symbackprop.verifier import verify  # noqa: E402

OVER_LIMIT_WORDS = ("too costly to decide within", "in the time allowed", "takes longer than", "is too large to check")
BUSY_SHARE = 0.5
"""An over-limit call that used less than this share of the limit in CPU time waited for a core: the
machine was busy with other processes, not verify with this input."""


def run_one(args):
    """(seed, family, outcome, seconds, detail) for the input of ``seed``."""
    seed, time_limit = args
    family, formula, network = fuzzed(RandomDraw(seed))
    start, cpu = time.perf_counter(), time.process_time()
    try:
        result = verify(formula, network, time_limit=time_limit)
        result.text()
        result.to_dict()
        outcome, detail = result.verdict, ""
    except FormulaError as e:
        message = str(e)
        if "\n" in message or not message:
            outcome, detail = "crash", f"FormulaError not on one line: {message!r}"
        elif any(words in message for words in OVER_LIMIT_WORDS):
            outcome, detail = "over_limit", message
        else:
            outcome, detail = "error", ""
    except Exception as e:  # noqa: BLE001 - counting crashes is the point
        cause = e.orig_exc if isinstance(e, VisitError) else e  # an exception inside the parser's transformer
        where = traceback.extract_tb(cause.__traceback__)[-4:]
        outcome, detail = "crash", f"{type(cause).__name__}: {cause} at " + " < ".join(
            f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(where))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if seconds >= time_limit and outcome != "crash":
        outcome, detail = "over_limit", f"took {seconds:.2f} s"
    if outcome == "over_limit":
        detail += f" (CPU time {cpu:.2f} s)"
    return seed, family, outcome, seconds, detail, formula if outcome in ("crash", "over_limit") else formula[:160], \
        network.describe(), cpu


def warm_up(_):
    """Each worker derives every network once (and its witness network, through a right index formula), as a
    long-running grader would have: the time per call is then the steady state, not the first call's."""
    for spec in NETWORKS:
        verify(r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \delta^{(L)}_j", Network.parse(*spec))
    time.sleep(0.5)  # so that each worker gets one warm-up job
    return os.getpid()


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def distribution(times):
    t = sorted(times)
    return (f"p50 {percentile(t, 0.50) * 1e3:7.1f} ms   p90 {percentile(t, 0.90) * 1e3:7.1f} ms   "
            f"p99 {percentile(t, 0.99) * 1e3:7.1f} ms   p99.9 {percentile(t, 0.999) * 1e3:7.1f} ms   "
            f"max {t[-1] * 1e3:7.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="number of fuzzed inputs (default 100,000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="worker processes (default: one per core)")
    parser.add_argument("--time-limit", type=float, default=2.0, help="verify's time limit in seconds (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (inputs are seeds seed .. seed+n-1)")
    args = parser.parse_args()

    start = time.perf_counter()
    results = []
    with multiprocessing.get_context("fork").Pool(args.workers, maxtasksperchild=5000) as pool:
        pool.map(warm_up, range(args.workers))
        jobs = ((seed, args.time_limit) for seed in range(args.seed, args.seed + args.n))
        for i, r in enumerate(pool.imap_unordered(run_one, jobs, chunksize=20), 1):
            results.append(r)
            if i % 10_000 == 0:
                bad = sum(1 for x in results if x[2] in ("crash", "over_limit"))
                print(f"  {i:,} inputs, {bad} crashes or over-limit so far, {time.perf_counter() - start:.0f} s",
                      flush=True)
    wall = time.perf_counter() - start

    outcomes = collections.Counter(r[2] for r in results)
    crashes = [r for r in results if r[2] == "crash"]
    over = [r for r in results if r[2] == "over_limit"]
    print(f"\nverify on {len(results):,} fuzzed inputs, {args.workers} worker processes, time limit "
          f"{args.time_limit:g} s, seeds {args.seed}..{args.seed + args.n - 1}: {wall:.0f} s wall clock")
    busy = [r for r in over if r[7] < BUSY_SHARE * args.time_limit]
    print(f"  crashes:          {len(crashes)}")
    print(f"  over the limit:   {len(over)}" + (f", of which {len(busy)} used less than {BUSY_SHARE:.0%} of it in CPU "
                                                  "time (the machine was busy: other processes had the cores)"
                                                  if busy else ""))
    print(f"  CPU time per call: {distribution([r[7] for r in results])}")
    load = os.getloadavg()
    print(f"  load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print("  outcomes:         " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
    print(f"  time per call:    {distribution([r[3] for r in results])}")
    print("\nper family:")
    by_family = collections.defaultdict(list)
    for r in results:
        by_family[r[1]].append(r)
    for name in sorted(FAMILIES):
        rs = by_family.get(name, [])
        if rs:
            counts = collections.Counter(r[2] for r in rs)
            print(f"  {name:19} {len(rs):6,}  {distribution([r[3] for r in rs])}   "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("\nslowest inputs:")
    for r in sorted(results, key=lambda r: -r[3])[:10]:
        print(f"  {r[3] * 1e3:7.1f} ms  seed {r[0]:6}  {r[1]:17} {r[6]:40} {r[2]:15} {r[5][:100]!r}")
    for r in crashes[:20] + over[:20]:
        print(f"\n{r[2]} at seed {r[0]} ({r[1]}, network {r[6]}): {r[4]}\n  formula: {r[5]!r}")
    return 1 if crashes or over else 0


if __name__ == "__main__":
    sys.exit(main())
