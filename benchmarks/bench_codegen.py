"""How fast are the generated gradients?  Side by side in one run, both dtypes:

* generated    ``symbackprop.compile(net).gradients`` (the same code ``codegen -o`` writes)
* lean NumPy   a lean hand-written vectorized backprop, written here: the textbook matrix form with
               the 1/n of the mean applied once (to δ⁽ᴸ⁾), not to every gradient; for a softmax output
               with the log-likelihood the stable softmax and δ⁽ᴸ⁾ = (a − y)/n, for L2 (λ/n) W added
* PyTorch      CPU autograd (``torch.autograd.grad``), when torch is importable
* JAX jit      ``jax.jit(jax.grad(cost))``, when jax is importable (not a dependency of the project)
* floor        the bare matrix products of one backprop (L forward, L for ∂C/∂W, L - 1 for δ) into
               arrays prepared in advance: no activation, no bias, no allocation; nothing is faster

Timing: 31 interleaved rounds (every method sees the same machine state); in each round every
method runs untimed for at least 100 ms right before its timed sample (the worker threads of the
method before it, which keep spinning after a call, have settled by then), then a sample of at
least 20 ms; the table shows the median over the rounds.  2 threads for every library.  A row
during which other processes used more than 10% of the machine is timed again (up to 3 times;
it says so).  Run:

    .venv/bin/python benchmarks/bench_codegen.py [--rounds 31] [--dtype float64|float32|both] [--quick] [--only ROW]
    .venv/bin/python benchmarks/bench_codegen.py --device cuda     # generated vs PyTorch on a GPU
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "2")  # 2 threads for every library (before NumPy and torch load)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import symbackprop as sb  # noqa: E402

QUADRATIC = ("quadratic", None)
SOFTMAX = ("log_likelihood", None)  # with the activations "…,softmax": Nielsen's chapter 3 output layer
SOFTMAX_L2 = ("log_likelihood", ("l2", 5.0))
CASES = [  # (sizes, batch, activations, (cost, regulariser))
    ((784, 256, 128, 10), 256, "sigmoid", QUADRATIC),
    ((1024, 1024, 1024, 10), 512, "sigmoid", QUADRATIC),
    ((784, 256, 128, 10), 256, "relu,tanh,sigmoid", QUADRATIC),
    ((1024, 1024, 1024, 10), 512, "tanh,relu,sigmoid", QUADRATIC),
    ((64, 32, 10), 64, "sigmoid", QUADRATIC),
    ((1, 1, 1, 1), 1, "sigmoid", QUADRATIC),
    ((784, 256, 10), 256, "sigmoid,softmax", SOFTMAX),
    ((784, 256, 10), 256, "sigmoid,softmax", SOFTMAX_L2),
    ((64, 32, 10), 64, "sigmoid,softmax", SOFTMAX_L2),
]
QUICK = [CASES[0], CASES[2], CASES[4], CASES[5], CASES[7]]
LEAD_IN = 0.1  # s of untimed calls right before each sample
SAMPLE = 0.02  # s: a sample is at least this long
BUSY = 0.10  # a row is timed again when other processes used more than this share of the machine


# The methods ------------------------------------------------------------------------------

LEAN_ACTIVATIONS = {  # name: (σ(z), σ'(z) from a = σ(z)), as an engineer writes them
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
    "tanh": (np.tanh, lambda a: 1 - a * a),
    "relu": (lambda z: np.maximum(z, 0), lambda a: a > 0),
}


def lean_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def lean_backprop(activations, cost="quadratic", regulariser=None):
    """A lean hand-written backprop: a loop over the layers, 1/n applied once; quadratic cost, or a
    softmax output with the log-likelihood (δ = a − y); L2 adds (λ/n) W to each weight's gradient."""
    softmax = activations[-1] == "softmax"
    if (cost == "log_likelihood") != softmax or (regulariser and regulariser[0] != "l2"):
        raise ValueError("the lean backprop knows the quadratic cost, a softmax with the log-likelihood, and L2")
    forward = [lean_softmax if name == "softmax" else LEAN_ACTIVATIONS[name][0] for name in activations]
    slope = [None if name == "softmax" else LEAN_ACTIVATIONS[name][1] for name in activations]
    lam = regulariser[1] if regulariser else 0.0
    depth = len(activations)
    W_names = [f"W{layer}" for layer in range(1, depth + 1)]
    b_names = [f"b{layer}" for layer in range(1, depth + 1)]

    def gradients(params, X, Y):
        Ws = [params[name] for name in W_names]
        acts = [X]
        for W, b, sigma in zip(Ws, (params[name] for name in b_names), forward):
            acts.append(sigma(acts[-1] @ W.T + b))
        a = acts[-1]
        n = X.shape[0]
        delta = (a - Y) * (1 / n) if softmax else (2 / n) * (a - Y) * slope[-1](a)
        grads = {}
        for layer in range(depth, 0, -1):
            grads[W_names[layer - 1]] = delta.T @ acts[layer - 1]
            if lam:
                grads[W_names[layer - 1]] += (lam / n) * Ws[layer - 1]
            grads[b_names[layer - 1]] = delta.sum(axis=0)
            if layer > 1:
                delta = (delta @ Ws[layer - 1]) * slope[layer - 2](acts[layer - 1])
        return grads

    return gradients


def floor_method(params, X, dtype):
    """Only the matrix products of one backprop, into arrays prepared in advance."""
    depth = len(params) // 2
    rng = np.random.default_rng(2)
    sizes = [X.shape[1]] + [params[f"W{layer}"].shape[0] for layer in range(1, depth + 1)]
    acts = [X] + [rng.standard_normal((X.shape[0], n)).astype(dtype) for n in sizes[1:]]
    deltas = [None] + [rng.standard_normal((X.shape[0], n)).astype(dtype) for n in sizes[1:]]
    Wt = {layer: params[f"W{layer}"].T for layer in range(1, depth + 1)}
    out_z = [None] + [np.empty((X.shape[0], n), dtype) for n in sizes[1:]]
    out_w = [None] + [np.empty((sizes[layer], sizes[layer - 1]), dtype) for layer in range(1, depth + 1)]
    out_d = [None] + [np.empty((X.shape[0], n), dtype) for n in sizes[1:]]

    def run(_params, _X, _Y):
        for layer in range(1, depth + 1):
            np.matmul(acts[layer - 1], Wt[layer], out=out_z[layer])
        for layer in range(depth, 0, -1):
            np.matmul(deltas[layer].T, acts[layer - 1], out=out_w[layer])
            if layer > 1:
                np.matmul(deltas[layer], params[f"W{layer}"], out=out_d[layer - 1])

    return run


def torch_method(activations, params, X, Y, device="cpu", cost="quadratic", regulariser=None):
    """(function, note) for PyTorch autograd, or (None, why not)."""
    try:
        import torch
    except ImportError:
        return None, "torch not installed; skipped"
    torch.set_num_threads(2)
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "softmax": lambda z: z}
    sigmas = [functions[name] for name in activations]
    lam = regulariser[1] if regulariser else 0.0
    tp = {k: torch.from_numpy(v).to(device).requires_grad_(True) for k, v in params.items()}
    tX, tY = torch.from_numpy(X).to(device), torch.from_numpy(Y).to(device)
    names = list(params)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def grads(_params, _X, _Y):
        a = tX
        for layer, sigma in enumerate(sigmas, start=1):
            a = sigma(torch.addmm(tp[f"b{layer}"], a, tp[f"W{layer}"].T))
        if cost == "log_likelihood":  # the last layer left z as it is: log-softmax, then -Σ y ln a
            value = -(tY * torch.log_softmax(a, dim=1)).sum(dim=1).mean()
        else:
            value = ((a - tY) ** 2).sum(dim=1).mean()
        if lam:
            value = value + lam / (2 * tX.shape[0]) * sum((tp[n] ** 2).sum() for n in names if n[0] == "W")
        out = torch.autograd.grad(value, [tp[n] for n in names])
        sync()
        return out

    return grads, f"torch {torch.__version__}, {torch.get_num_threads()} threads, {device}"


def jax_method(activations, params, X, Y, cost_name="quadratic", regulariser=None):
    """(function, note) for JAX jit of grad, or (None, why not)."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, "jax not installed (pip install jax, not a dependency of the project); skipped"
    if X.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    functions = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu, "softmax": lambda z: z}
    sigmas = [functions[name] for name in activations]
    lam = regulariser[1] if regulariser else 0.0

    def cost(p, x, y):
        a = x
        for layer, sigma in enumerate(sigmas, start=1):
            a = sigma(a @ p[f"W{layer}"].T + p[f"b{layer}"])
        if cost_name == "log_likelihood":  # the last layer left z as it is
            value = -jnp.mean(jnp.sum(y * jax.nn.log_softmax(a, axis=1), axis=1))
        else:
            value = jnp.mean(jnp.sum((a - y) ** 2, axis=1))
        return value + lam / (2 * x.shape[0]) * sum(jnp.sum(p[k] ** 2) for k in p if k[0] == "W")

    grad = jax.jit(jax.grad(cost))
    jp = {k: jnp.asarray(v) for k, v in params.items()}
    jX, jY = jnp.asarray(X), jnp.asarray(Y)

    def grads(_params, _X, _Y):
        return jax.block_until_ready(grad(jp, jX, jY))

    return grads, f"jax {jax.__version__} jit, {jax.devices()[0].platform}"


# Timing -------------------------------------------------------------------------------------

def busy_jiffies():
    """Busy CPU time of the whole machine so far, in seconds (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def sample(fn, lead_in=LEAD_IN):
    """Untimed calls for lead_in seconds, then the mean time of one call over at least SAMPLE s."""
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < lead_in or calls == 0:
        fn()
        calls += 1
    one = (time.perf_counter() - start) / calls
    repeat = max(1, int(SAMPLE / max(one, 1e-9)))
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def time_row(methods, rounds):
    """{name: median seconds per call} over interleaved rounds, and the share of the machine
    other processes used meanwhile."""
    times = {name: [] for name in methods}
    machine, own, wall = busy_jiffies(), time.process_time(), time.perf_counter()
    for r in range(rounds):
        order = list(methods)
        order = order[r % len(order):] + order[:r % len(order)]  # no method always runs first
        for name in order:
            times[name].append(sample(methods[name]))
    elapsed = time.perf_counter() - wall
    others = None
    if machine is not None:
        others = max(0.0, (busy_jiffies() - machine) - (time.process_time() - own)) / (elapsed * os.cpu_count())
    return {name: statistics.median(values) for name, values in times.items()}, others


def problem(sizes, batch, activations, objective, dtype):
    cost, regulariser = objective
    net = sb.Network.parse(list(sizes), activations, cost, **dict([regulariser] if regulariser else []))
    gen = sb.compile(net)
    params = gen.init_params(0, dtype)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    if cost == "log_likelihood":  # one-hot labels
        Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], batch)]
    else:
        Y = rng.uniform(0, 1, (batch, sizes[-1])).astype(dtype)
    return net, gen, params, X, Y


def bench_cpu(sizes, batch, activations, objective, dtype, rounds):
    net, gen, params, X, Y = problem(sizes, batch, activations, objective, dtype)
    acts = net.activations
    lean = lean_backprop(acts, *objective)
    # the same numbers, or the comparison means nothing
    want, got = lean(params, X, Y), gen.gradients(params, X, Y)
    rtol, atol = (2e-3, 1e-5) if dtype == np.float32 else (1e-9, 1e-12)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol * max(1, np.abs(want[k]).max()))
    methods = {"floor": floor_method(params, X, dtype), "generated": gen.gradients, "lean": lean}
    notes = []
    for name, make in (("pytorch", torch_method), ("jax", jax_method)):
        fn, note = make(acts, params, X, Y, "cpu", *objective) if name == "pytorch" else make(acts, params, X, Y,
                                                                                             *objective)
        notes.append(note)
        if fn is not None:
            methods[name] = fn
    bound = {name: (lambda fn=fn: fn(params, X, Y)) for name, fn in methods.items()}
    for attempt in range(1, 4):
        best, others = time_row(bound, rounds)
        if others is None or others <= BUSY:
            break
        print(f"    other processes used {others:.0%} of the machine; timing the row again ({attempt}/3)")
    return best, others, notes


def bench_cuda(sizes, batch, activations, objective, dtype, rounds):
    import torch

    net, gen, params, X, Y = problem(sizes, batch, activations, objective, dtype)
    tp = {k: torch.from_numpy(v).cuda() for k, v in params.items()}
    tX, tY = torch.from_numpy(X).cuda(), torch.from_numpy(Y).cuda()

    def generated():
        out = gen.gradients(tp, tX, tY)
        torch.cuda.synchronize()
        return out

    autograd, note = torch_method(net.activations, params, X, Y, "cuda", *objective)
    best, others = time_row({"generated": generated, "pytorch": lambda: autograd(None, None, None)}, rounds)
    return best, others, [note]


# Output -------------------------------------------------------------------------------------

def fmt(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "-"


def label(sizes, batch, acts, objective):
    """'784-256-10, 256, sigmoid,softmax, log-likelihood + L2 5' (quadratic cost: no mention)."""
    cost, regulariser = objective
    text = f"{'-'.join(map(str, sizes))}, {batch}, {acts}"
    if cost != "quadratic":
        text += f", {cost.replace('_', '-')}"
    if regulariser:
        text += f" + {regulariser[0].upper()} {regulariser[1]:g}"
    return text


def cpu_table(rows):
    head = ("| network, batch, activations | floor | generated | lean NumPy | PyTorch | JAX jit | "
            "generated / lean | generated / floor | lean / floor | PyTorch / floor | JAX / floor |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for case, best, others in rows:
        f, g, h, t, j = (best.get(k) for k in ("floor", "generated", "lean", "pytorch", "jax"))
        busy = f" (others {others:.0%})" if others is not None and others > BUSY else ""
        lines.append(f"| {label(*case)}{busy} | {fmt(f)} | {fmt(g)} | {fmt(h)} | "
                     f"{fmt(t)} | {fmt(j)} | {ratio(g, h)} | {ratio(g, f)} | {ratio(h, f)} | {ratio(t, f)} | "
                     f"{ratio(j, f)} |")
    return "\n".join(lines)


def cuda_table(rows):
    lines = ["| network, batch, activations | generated | PyTorch autograd | generated / PyTorch |", "|---|---|---|---|"]
    for case, best, _ in rows:
        g, t = best["generated"], best["pytorch"]
        lines.append(f"| {label(*case)} | {fmt(g)} | {fmt(t)} | {ratio(g, t)} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--quick", action="store_true", help="fewer networks")
    parser.add_argument("--only", metavar="TEXT", help="only the networks whose row starts with TEXT, e.g. "
                                                       "'1024-1024-1024-10, 512, tanh' (to time a row again)")
    args = parser.parse_args()
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    cases = QUICK if args.quick else CASES
    if args.only:
        cases = [c for c in cases if label(*c).startswith(args.only)]
    if args.device == "cuda":
        try:
            import torch
        except ImportError:
            torch = None
        if torch is None or not torch.cuda.is_available():
            why = "torch is not installed" if torch is None else "torch.cuda.is_available() is False"
            print(f"bench_codegen --device cuda: no CUDA GPU on this machine ({why}); nothing was timed.")
            return
        print(f"bench_codegen: CUDA {torch.cuda.get_device_name()}, generated vs PyTorch autograd on the GPU")
    else:
        print(f"bench_codegen: quadratic cost unless the row names another; median of {args.rounds} interleaved rounds, {LEAD_IN * 1e3:.0f} ms "
              f"lead-in per sample; {os.cpu_count()} CPUs, NumPy {np.__version__}, Python {platform.python_version()}")
    bench = bench_cuda if args.device == "cuda" else bench_cpu
    tables = []
    for dtype_name in dtypes:
        rows, notes = [], set()
        for case in cases:
            best, others, row_notes = bench(*case, np.dtype(dtype_name).type, args.rounds)
            rows.append((case, best, others))
            notes.update(row_notes)
            print(f"  {dtype_name} {label(*case)}: done"
                  + (f" (other processes {others:.0%})" if others is not None else ""), flush=True)
        tables.append((dtype_name, rows, sorted(notes)))
    for dtype_name, rows, notes in tables:
        print(f"\n{dtype_name} ({'; '.join(notes)}):\n")
        print(cuda_table(rows) if args.device == "cuda" else cpu_table(rows))


if __name__ == "__main__":
    main()
