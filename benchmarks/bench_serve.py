"""Load on a running ``symbackprop serve``: concurrent clients, mixed right, wrong and bad formulas.

    .venv/bin/python benchmarks/bench_serve.py --start               # starts a server on a free port, then stops it
    .venv/bin/python benchmarks/bench_serve.py --url http://127.0.0.1:8000 --clients 50 --requests 2000

Every answer is checked against the verdict it must have (right -> equivalent, wrong -> not
equivalent, bad -> 400 with an error); prints throughput, latency percentiles and the number of
wrong and failed answers, which must be 0 (exit code 1 otherwise).  Only loopback addresses are
accepted, and the run is bounded in requests and in time.
"""

import argparse
import asyncio
import ipaddress
import re
import statistics
import subprocess
import sys
import time
from urllib.parse import urlparse

import httpx2 as httpx

RIGHT = [
    ({}, r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"),
    ({}, r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)"),
    ({"sizes": "3,3,2"}, r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)"),
    ({"sizes": "3,4,2"}, r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)"),
    ({"sizes": "784,256,10", "activation": "relu,sigmoid", "cost": "cross_entropy"},
     r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)"),
]
WRONG = [
    ({}, r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)"),
    ({}, r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) (a^{(L)} - y)"),
    ({}, r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(y - a^{(L)})"),
    ({"sizes": "3,4,2"}, r"\delta^l_j = \sum_k w^{l+1}_{jk} \delta^{l+1}_k \sigma'(z^l_j)"),
]
BAD = [
    ({}, r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)} 2"),
    ({}, "<script>alert(1)</script>"),
    ({}, r"\frac{\partial C_0}{\partial w^{(7)}} = 1"),
    ({"sizes": "3,x"}, r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)}"),
]


def workload(n):
    """n requests: 40% right, 40% wrong, 20% bad, interleaved; each with the answer it must get."""
    kinds = [("right", RIGHT), ("wrong", WRONG), ("right", RIGHT), ("wrong", WRONG), ("bad", BAD)]
    out = []
    for i in range(n):
        kind, corpus = kinds[i % len(kinds)]
        network, formula = corpus[(i // len(kinds)) % len(corpus)]
        out.append((kind, {"formula": formula, **network}))
    return out


def correct(kind, response):
    if kind == "bad":
        return response.status_code == 400 and bool(response.json().get("error"))
    if response.status_code != 200:
        return False
    return response.json().get("verdict") == ("equivalent" if kind == "right" else "not_equivalent")


async def run(url, clients, requests, max_seconds):
    jobs = workload(requests)
    queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies, wrong, failed, statuses = [], [], [], {}
    deadline = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def one_client():
            while not queue.empty() and time.monotonic() < deadline:
                kind, body = queue.get_nowait()
                start = time.perf_counter()
                try:
                    response = await client.post("/api/verify", json=body)
                except httpx.HTTPError as e:
                    failed.append(f"{type(e).__name__}: {e}")
                    continue
                latencies.append(time.perf_counter() - start)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failed.append(f"{response.status_code}: {response.text[:200]}")
                elif not correct(kind, response):
                    wrong.append(f"{kind} {body}: {response.status_code} {response.text[:200]}")

        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return latencies, wrong, failed, statuses, elapsed, len(jobs) - len(latencies) - len(failed)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def loopback_only(url):
    host = urlparse(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"bench_serve: {url} is not a loopback address; this benchmark only drives a local server")


def start_server(workers):
    command = [sys.executable, "-m", "symbackprop", "serve", "--port", "0"]
    if workers:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", process.stdout.readline())
    if not match:
        process.kill()
        sys.exit("bench_serve: the server did not start")
    return process, match.group(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running server (loopback only)")
    parser.add_argument("--start", action="store_true", help="start a server on a free port for the run")
    parser.add_argument("--workers", type=int, default=None, help="with --start: its worker processes")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop sending after this long")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 500 and 1 <= args.requests <= 100_000):
        sys.exit("bench_serve: use 1..500 clients and 1..100000 requests")
    process = None
    if args.start:
        process, args.url = start_server(args.workers)
    loopback_only(args.url)
    try:
        asyncio.run(run(args.url, min(args.clients, 4), 40, 60))  # warm-up: every network derived in every worker
        latencies, wrong, failed, statuses, elapsed, unsent = asyncio.run(
            run(args.url, args.clients, args.requests, args.max_seconds))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
    print(f"server {args.url}: {args.clients} concurrent clients, {len(latencies)} of {args.requests} verify "
          f"requests answered in {elapsed:.1f} s (40% right, 40% wrong, 20% bad formulas)")
    if latencies:
        print(f"throughput  {len(latencies) / elapsed:.1f} requests/s")
        print(f"latency     p50 {percentile(latencies, 50) * 1000:.0f} ms   p95 {percentile(latencies, 95) * 1000:.0f} ms   "
              f"p99 {percentile(latencies, 99) * 1000:.0f} ms   max {max(latencies) * 1000:.0f} ms   "
              f"mean {statistics.mean(latencies) * 1000:.0f} ms")
    print(f"statuses    {dict(sorted(statuses.items()))}")
    print(f"wrong answers {len(wrong)}, failed requests {len(failed)}, not sent (time limit) {unsent}")
    for line in (wrong + failed)[:10]:
        print("  ", line)
    return 1 if wrong or failed or unsent else 0


if __name__ == "__main__":
    sys.exit(main())
