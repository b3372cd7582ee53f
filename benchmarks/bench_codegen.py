"""How fast are the generated gradients?  One run, side by side, for three networks:

* generated    ``symbackprop.compile(net).gradients`` (the same code ``codegen -o`` writes)
* hand-written a straightforward vectorized NumPy backprop, written here
* PyTorch      CPU autograd (``torch.autograd.grad``), when torch is importable; skipped otherwise
* floor        the bare matrix products alone (L forward, L for ∂C/∂W, L-1 for δ): no
               activation, no bias, no allocation of the inputs; nothing can be faster

Timing: the minimum over repeats of the mean over a few calls, the methods interleaved within
each repeat so that they see the same machine state (with a pause after PyTorch, whose spinning
OpenMP threads would otherwise slow down whatever runs next).  float64, sigmoid everywhere, quadratic
cost (the lectures' defaults).  Run:

    .venv/bin/python benchmarks/bench_codegen.py [--repeats N] [--dtype float32]
"""

import argparse
import os
import platform
import time

import numpy as np

import symbackprop as sb

CASES = [((784, 256, 128, 10), 256), ((1024, 1024, 1024, 10), 512), ((1, 1, 1, 1), 1)]


def hand_written(params, X, Y):
    """The textbook matrix-form backprop, vectorized over the batch (rows are examples)."""
    depth = len(params) // 2
    acts = [X]
    with np.errstate(over="ignore"):
        for layer in range(1, depth + 1):
            z = acts[-1] @ params[f"W{layer}"].T + params[f"b{layer}"]
            acts.append(1 / (1 + np.exp(-z)))
    n = X.shape[0]
    a = acts[-1]
    delta = 2 * (a - Y) * a * (1 - a)
    grads = {}
    for layer in range(depth, 0, -1):
        grads[f"W{layer}"] = delta.T @ acts[layer - 1] / n
        grads[f"b{layer}"] = delta.sum(axis=0) / n
        if layer > 1:
            a = acts[layer - 1]
            delta = (delta @ params[f"W{layer}"]) * a * (1 - a)
    return grads


def floor(params, X, Y, acts, deltas):
    """Only the matrix products of one backprop, on arrays prepared in advance."""
    depth = len(params) // 2
    for layer in range(1, depth + 1):
        acts[layer - 1] @ params[f"W{layer}"].T
    for layer in range(depth, 0, -1):
        deltas[layer].T @ acts[layer - 1]
        if layer > 1:
            deltas[layer] @ params[f"W{layer}"]


def torch_method(params, X, Y):
    """(function, note) for PyTorch CPU autograd, or (None, why not)."""
    try:
        import torch
    except ImportError:
        return None, "torch not installed (pip install torch); skipped"
    tp = {k: torch.from_numpy(v).requires_grad_(True) for k, v in params.items()}
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    names = list(params)
    depth = len(params) // 2

    def grads(_params, _X, _Y):
        a = tX
        for layer in range(1, depth + 1):
            a = torch.sigmoid(torch.addmm(tp[f"b{layer}"], a, tp[f"W{layer}"].T))
        cost = ((a - tY) ** 2).sum(dim=1).mean()
        return torch.autograd.grad(cost, [tp[n] for n in names])

    return grads, f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def timed(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def bench(sizes, batch, repeats, dtype):
    net = sb.Network.parse(list(sizes), "sigmoid", "quadratic")
    gen = sb.compile(net)
    params = gen.init_params(0, dtype)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    Y = rng.uniform(0, 1, (batch, sizes[-1])).astype(dtype)

    # the same numbers, or the comparison means nothing
    want, got = hand_written(params, X, Y), gen.gradients(params, X, Y)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4 if dtype == np.float32 else 1e-9,
                                   atol=1e-6 if dtype == np.float32 else 1e-12)

    acts = [X] + [rng.standard_normal((batch, n)).astype(dtype) for n in sizes[1:]]
    deltas = [None] + [rng.standard_normal((batch, n)).astype(dtype) for n in sizes[1:]]
    methods = {"floor": lambda: floor(params, X, Y, acts, deltas),
               "generated": lambda: gen.gradients(params, X, Y),
               "hand-written": lambda: hand_written(params, X, Y)}
    tfn, tnote = torch_method(params, X, Y)
    if tfn is not None:
        methods["pytorch"] = lambda: tfn(params, X, Y)
        methods["pytorch"]()
    one = timed(methods["hand-written"], 1)
    calls = max(1, min(2000, int(0.03 / max(one, 1e-7))))
    best = {k: float("inf") for k in methods}
    for _ in range(repeats):  # interleaved: every method sees the same machine state
        for name, fn in methods.items():
            fn()  # one untimed call first: caches and thread pools warm
            best[name] = min(best[name], timed(fn, calls))
            if name == "pytorch":
                # PyTorch's OpenMP threads keep spinning for a while after each call and would
                # take the cores from whichever NumPy method ran next: let them go to sleep
                time.sleep(0.2)
    return best, tnote


def fmt(seconds):
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = parser.parse_args()
    dtype = np.dtype(args.dtype).type
    print(f"bench_codegen: {args.dtype}, sigmoid, quadratic cost; min over {args.repeats} interleaved repeats; "
          f"{os.cpu_count()} CPUs, NumPy {np.__version__}, Python {platform.python_version()}")
    rows = []
    for sizes, batch in CASES:
        best, tnote = bench(sizes, batch, args.repeats, dtype)
        rows.append((sizes, batch, best))
        print(f"  {'-'.join(map(str, sizes))} batch {batch}: done")
    print(f"  pytorch: {tnote}")
    print()
    head = ("| network, batch | floor (matmuls) | generated | hand-written NumPy | PyTorch CPU | "
            "generated / hand-written | generated / floor | hand-written / floor | PyTorch / floor |")
    print(head)
    print("|" + "|".join(["---"] * (head.count("|") - 1)) + "|")
    for sizes, batch, best in rows:
        t = best.get("pytorch")
        torch_ratio = f"{t / best['floor']:.2f}×" if t else "-"
        print(f"| {'-'.join(map(str, sizes))}, {batch} | {fmt(best['floor'])} | {fmt(best['generated'])} | "
              f"{fmt(best['hand-written'])} | {fmt(t) if t else '-'} | "
              f"{best['generated'] / best['hand-written']:.2f}× | {best['generated'] / best['floor']:.2f}× | "
              f"{best['hand-written'] / best['floor']:.2f}× | {torch_ratio} |")


if __name__ == "__main__":
    main()
