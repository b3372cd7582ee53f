"""Train a small network on scikit-learn's bundled digits with generated gradients and SGD.

The gradients come from the module that ``symbackprop codegen`` writes (``run.sh main`` makes it):

    symbackprop codegen --sizes 64,32,10 --activation relu,sigmoid --cost cross_entropy -o output/digits_grad.py
    python examples/train_digits.py [--module output/digits_grad.py] [--epochs 100] [--momentum 0.9]

With ``--softmax`` the output layer is a softmax with the log-likelihood cost (Nielsen's chapter 3),
and ``--l2 LAMBDA`` adds L2 regularisation (weight decay) with the training-set size n passed to
every minibatch's gradients (``n=``):

    symbackprop codegen --sizes 64,32,10 --activation relu,softmax --cost log_likelihood --l2 5 -o output/digits_grad_softmax.py
    python examples/train_digits.py --softmax --l2 5 --module output/digits_grad_softmax.py

Without the module file it asks ``symbackprop.compile`` for the same functions in memory.  The data
(1,797 8x8 images of handwritten digits) ships inside scikit-learn: nothing is downloaded.
Everything the training needs comes from the generated module: ``init_params`` (a named
initialisation), ``value_and_gradients`` (the batch's cost and gradients from one forward pass)
and ``sgd_step`` (plain SGD, or with momentum).
"""

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
NETWORK = ("64,32,10", "relu,sigmoid", "cross_entropy")  # 10 sigmoid outputs, cross-entropy
SOFTMAX_NETWORK = ("64,32,10", "relu,softmax", "log_likelihood")  # a softmax output, the log-likelihood


def load_gradients(path, network, l2):
    """The generated module at ``path``, or the same functions compiled in memory; either must be for
    ``network`` (sizes, activations, cost) with L2 strength ``l2`` (None: no regularisation)."""
    sizes, activations, cost = network
    if path.exists():
        spec = importlib.util.spec_from_file_location("digits_grad", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"gradients: {path} (written by symbackprop codegen)")
    else:
        import symbackprop as sb

        module = sb.compile(sb.Network.parse(sizes, activations, cost, l2=l2))
        print(f"gradients: symbackprop.compile (no {path}; symbackprop codegen writes it)")
    wanted = (tuple(map(int, sizes.split(","))), tuple(activations.split(",")), cost, l2)
    if (module.SIZES, tuple(module.ACTIVATIONS), module.COST, getattr(module, "LAMBDA_L2", None)) != wanted:
        option = "" if l2 is None else f" --l2 {l2:g}"
        raise SystemExit(f"{path} is for {module.SIZES} / {', '.join(module.ACTIVATIONS)} / {module.COST} / L2 "
                         f"{getattr(module, 'LAMBDA_L2', None)}; regenerate it with symbackprop codegen --sizes "
                         f"{sizes} --activation {activations} --cost {cost}{option} -o {path}")
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", type=Path, help="the module codegen wrote (default: output/digits_grad.py, "
                                                    "with --softmax output/digits_grad_softmax.py)")
    parser.add_argument("--softmax", action="store_true", help="a softmax output layer with the log-likelihood cost")
    parser.add_argument("--l2", type=float, default=None, metavar="LAMBDA", help="L2 regularisation (weight decay)")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rate", type=float, default=0.05, help="SGD learning rate")
    parser.add_argument("--momentum", type=float, default=0.0, help="0 for plain SGD")
    parser.add_argument("--init", default="fan_in", help="normal, fan_in, he or glorot")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    network = SOFTMAX_NETWORK if args.softmax else NETWORK
    default = "digits_grad_softmax.py" if args.softmax else "digits_grad.py"
    net = load_gradients(args.module or ROOT / "output" / default, network, args.l2)
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float64)  # pixels 0..16 -> 0..1
    labels = digits.target
    X_train, X_test, y_train, y_test = train_test_split(X, labels, test_size=0.25, random_state=args.seed,
                                                        stratify=labels)
    Y_train = np.eye(10)[y_train]  # one-hot targets for the 10 outputs (each row adds up to 1)
    Y_test = np.eye(10)[y_test]
    print(f"data: {len(X_train)} training and {len(X_test)} test images of 8x8 digits (scikit-learn, bundled)")
    method = "plain SGD" if args.momentum == 0 else f"SGD with momentum {args.momentum}"
    n = len(X_train)  # the training-set size: the regularisation's lambda/n, in every minibatch
    regularisation = "" if args.l2 is None else f", L2 lambda = {args.l2:g} (n = {n})"
    print(f"network: {'-'.join(map(str, net.SIZES))}, {', '.join(net.ACTIVATIONS)}, {net.COST}{regularisation}; "
          f"{method}, batch {args.batch}, rate {args.rate}, {args.epochs} epochs, {args.init} initialisation")

    params = net.init_params(seed=args.seed, scheme=args.init)
    rng = np.random.default_rng(args.seed)
    velocity = None
    start = time.perf_counter()
    print(f"epoch   0  training loss {net.cost(params, X_train, Y_train, n=n):.4f}")
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(X_train))
        batch_costs = []
        for first in range(0, len(order), args.batch):
            rows = order[first:first + args.batch]
            cost, grads = net.value_and_gradients(params, X_train[rows], Y_train[rows], n=n)
            batch_costs.append(cost)
            # θ ← θ − η ∂C/∂θ (with momentum: v ← μv − η ∂C/∂θ, θ ← θ + v), params updated in place
            velocity = net.sgd_step(params, grads, args.rate, momentum=args.momentum, velocity=velocity)
        if epoch % 10 == 0 or epoch == 1:
            accuracy = np.mean(net.forward(params, X_test).argmax(axis=1) == y_test)
            print(f"epoch {epoch:3d}  training loss {net.cost(params, X_train, Y_train, n=n):.4f}  "
                  f"(batches during the epoch {np.mean(batch_costs):.4f})  "
                  f"test loss {net.cost(params, X_test, Y_test, n=n):.4f}  test accuracy {accuracy:.1%}")
    accuracy = np.mean(net.forward(params, X_test).argmax(axis=1) == y_test)
    print(f"test accuracy {accuracy:.1%} on {len(X_test)} held-out images "
          f"(trained in {time.perf_counter() - start:.1f} s)")
    squares = sum(float(np.vdot(value, value)) for name, value in params.items() if name[0] == "W")
    print(f"sum of the squared weights {squares:.1f}" + ("" if args.l2 is None else " (L2 keeps it small)"))


if __name__ == "__main__":
    main()
