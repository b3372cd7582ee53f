"""``check``: do the derived formulas give the true gradients for this network?

At random parameters and a small random batch, the gradients of the mean cost are computed
several independent ways and compared with the numerical backprop, parameter by parameter:

* derived    the derivation's BP1-BP4, instantiated for every weight and bias, evaluated
* sympy.diff the fully expanded cost differentiated by SymPy (small networks only)
* backprop   the numerical matrix-form backprop (the reference column)
* finite differences, central, in float64
* generated  the gradients function codegen writes, and any other provider in ``PROVIDERS``
"""

import html
import sys
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from tqdm import tqdm

from . import codegen, groundtruth, instantiate, numeric
from . import notation as nt
from .derivation import derive
from .model import bind_activations
from .spec import Network

DERIVED_LIMIT = 600  # parameters up to which the derived formulas are evaluated one by one
FD_ALL_LIMIT = 2000  # parameters up to which every entry gets a finite difference
FD_SAMPLE = 400  # entries sampled beyond that
EXACT_TOLERANCE = 1e-8  # relative, for methods that should agree to rounding
FD_TOLERANCE = 1e-5  # relative (with an absolute floor of the same size) for finite differences

PROVIDERS = {}
"""name -> function(network, params, X, Y) returning gradients like numeric.backprop."""


def _generated(network, params, X, Y):
    """The functions ``codegen`` generates for the network."""
    return codegen.compile(network).gradients(params, X, Y)


_generated.note = "the NumPy functions codegen writes (symbackprop.compile)"
PROVIDERS["generated"] = _generated


@dataclass
class Method:
    key: str
    label: str
    note: str
    tolerance: float
    skipped: str = ""
    grads: dict = field(default=None, repr=False)


@dataclass
class CheckReport:
    network: object
    batch: int
    seed: int
    methods: list
    rows: list  # (name, shape, {key: (max_abs, max_rel)})

    @property
    def agree(self):
        return all(self._ok(m, diffs) for _, _, diffs in self.rows for m in self.methods if not m.skipped)

    def _ok(self, method, diffs):
        if method.key not in diffs:
            return True
        abs_diff, rel_diff = diffs[method.key]
        return rel_diff <= method.tolerance or abs_diff <= method.tolerance

    def text(self):
        lines = [f"check {self.network.describe()}: gradients of the mean cost over {self.batch} random "
                 f"examples at random parameters (seed {self.seed})"]
        for m in self.methods:
            status = f"skipped: {m.skipped}" if m.skipped else m.note
            lines.append(f"  {m.label:<20} {status}")
        shown = [m for m in self.methods if not m.skipped and m.key != "backprop"]
        lines += ["", "  largest difference to the numerical backprop, absolute / relative:",
                  f"  {'parameter':<10} {'shape':<12}" + "".join(f" {m.label:>21}" for m in shown)]
        for name, shape, diffs in self.rows:
            cells = ""
            for m in shown:
                if m.key in diffs:
                    abs_diff, rel_diff = diffs[m.key]
                    flag = "" if self._ok(m, diffs) else "!"
                    cells += f" {abs_diff:>9.1e} {rel_diff:>9.1e}{flag:1}"
                else:
                    cells += f" {'-':>9} {'-':>9} "
            lines.append(f"  {name:<10} {str(shape):<12}{cells}")
        lines.append("")
        lines.append("all gradients agree" if self.agree else "DISAGREEMENT: see the rows marked !")
        return "\n".join(lines)

    def _repr_html_(self):
        """The table ``text()`` prints, as HTML for Jupyter."""
        shown = [m for m in self.methods if not m.skipped and m.key != "backprop"]
        head = "".join(f"<th>{html.escape(m.label)}</th>" for m in shown)
        body = ""
        for name, shape, diffs in self.rows:
            cells = "".join(f"<td>{diffs[m.key][1]:.1e}{'' if self._ok(m, diffs) else ' !'}</td>" if m.key in diffs
                            else "<td>-</td>" for m in shown)
            body += f"<tr><td>{name}</td><td>{shape}</td>{cells}</tr>"
        verdict = "all gradients agree" if self.agree else "DISAGREEMENT (rows marked !)"
        return (f"<p>check {html.escape(self.network.describe())}: largest relative difference to the numerical "
                f"backprop; <b>{verdict}</b></p><table><tr><th>parameter</th><th>shape</th>{head}</tr>{body}</table>")

    def to_dict(self):
        return {"network": self.network.to_dict(), "agree": self.agree, "batch": self.batch, "seed": self.seed,
                "methods": [{"key": m.key, "label": m.label, "skipped": m.skipped or None,
                             "tolerance": m.tolerance} for m in self.methods],
                "rows": [{"parameter": n, "shape": list(s),
                          "diffs": {k: {"max_abs": a, "max_rel": r} for k, (a, r) in d.items()}}
                         for n, s, d in self.rows]}


def _derived_numeric(derivation, params, X, Y):
    """Evaluate the instantiated BP1-BP4 formulas example by example, δ layer by layer."""
    net = derivation.network
    deltas = {d: bind_activations(f, net) for d, f in instantiate.deltas(derivation).items()}
    formulas = {p: bind_activations(f, net) for p, f in instantiate.gradient_formulas(derivation).items()}
    order = sorted(deltas, key=lambda d: (-int(d.indices[0]), int(d.indices[1])))
    leaves = {nt.w[layer, j, k]: params[f"W{layer}"][j, k]
              for layer in range(1, net.depth + 1)
              for j in range(net.width(layer)) for k in range(net.width(layer - 1))}
    grads = {name: np.zeros_like(params[name]) for name in numeric.parameter_names(net)}
    zs, acts = numeric.forward(net, params, X)
    for e in range(X.shape[0]):
        values = dict(leaves)
        values.update({nt.y[j]: Y[e, j] for j in range(net.width(net.depth))})
        if net.regularisation:  # each example's share of the penalty: the mean over the batch has λ/n
            values.update({nt.lam: net.regularisation[0][1], nt.n_examples: X.shape[0]})
        for layer in range(0, net.depth + 1):
            for j in range(net.width(layer)):
                values[nt.a[layer, j]] = acts[layer][e, j]
                if layer:
                    values[nt.z[layer, j]] = zs[layer][e, j]
        values = {key: sp.Float(v, 30) for key, v in values.items()}
        for d in order:
            values[d] = deltas[d].xreplace(values).evalf(30)
        for param, formula in formulas.items():
            layer = int(param.indices[0])
            value = float(formula.xreplace(values).evalf(30))
            if param.base == nt.w:
                grads[f"W{layer}"][int(param.indices[1]), int(param.indices[2])] += value
            else:
                grads[f"b{layer}"][int(param.indices[1])] += value
    return {name: g / X.shape[0] for name, g in grads.items()}


def _explicit_numeric(network, params, X, Y):
    strength = {nt.lam: network.regularisation[0][1], nt.n_examples: X.shape[0]} if network.regularisation else {}
    gradients = {p: g.xreplace(strength) for p, g in groundtruth.explicit_gradients(network).items()}
    f = groundtruth.lambdified(gradients, network)
    names = numeric.parameter_names(network)
    flat_params = np.concatenate([np.concatenate([params[f"W{layer}"].ravel(), params[f"b{layer}"]])
                                  for layer in range(1, network.depth + 1)])
    total = np.zeros(flat_params.size)
    for e in range(X.shape[0]):
        total += np.array(f(np.concatenate([X[e], flat_params, Y[e]])), dtype=float)
    total /= X.shape[0]
    grads, pos = {}, 0
    for name in names:
        size = params[name].size
        grads[name] = total[pos:pos + size].reshape(params[name].shape)
        pos += size
    return grads


def _diff(candidate, reference):
    mask = ~np.isnan(candidate)
    if not mask.any():
        return None
    delta = np.abs(candidate[mask] - reference[mask])
    return float(delta.max()), float((delta / np.maximum(np.abs(reference[mask]), 1e-8)).max())


def _progress_bar(total, show):
    """A progress bar on stderr (tqdm): shown at a terminal, or when ``show`` is True."""
    return tqdm(total=total, desc="check", unit="step", file=sys.stderr, leave=False,
                disable=None if show is None else not show)


def check(network=None, batch=3, seed=0, progress=None):
    """Compare every way of computing the gradients for ``network``; see the module docstring.

    ``progress``: a progress bar on stderr (None: only at a terminal).
    """
    network = Network.parse() if network is None else network
    derivation = derive(network)
    params = numeric.init_params(network, seed)
    X, Y = numeric.random_batch(network, batch, seed + 1)
    params_count = network.num_parameters

    methods = [Method("derived", "derived formulas", "BP1-BP4 instantiated for every weight and bias",
                      EXACT_TOLERANCE),
               Method("sympy", "sympy.diff", "of the fully expanded cost", EXACT_TOLERANCE),
               Method("backprop", "numerical backprop", "matrix form on the batch (the reference)", 0.0),
               Method("fd", "finite differences", "central, h = 1e-6, float64", FD_TOLERANCE)]
    methods += [Method(key, key, getattr(fn, "note", "registered provider"), EXACT_TOLERANCE)
                for key, fn in PROVIDERS.items()]

    reference = numeric.backprop(network, params, X, Y)
    fd_entries = None if params_count <= FD_ALL_LIMIT else numeric.sample_entries(params, FD_SAMPLE, seed + 2)
    fd_count = params_count if fd_entries is None else sum(map(len, fd_entries.values()))
    bar = _progress_bar(len(methods) + fd_count, progress)
    for m in methods:
        bar.set_postfix_str(m.label)
        bar.update(1)
        if m.key == "backprop":
            m.grads = reference
        elif m.key == "derived":
            if params_count > DERIVED_LIMIT:
                m.skipped = f"{params_count:,} parameters > {DERIVED_LIMIT} (one formula per parameter)"
            else:
                m.grads = _derived_numeric(derivation, params, X, Y)
        elif m.key == "sympy":
            if not groundtruth.small_enough(network):
                m.skipped = (f"{params_count:,} parameters > {groundtruth.EXPLICIT_LIMIT}; the expanded "
                             "cost grows too fast to differentiate")
            else:
                m.grads = _explicit_numeric(network, params, X, Y)
        elif m.key == "fd":
            if fd_entries is not None:
                m.note = (f"central, h = 1e-6, float64, at {fd_count} sampled entries of {params_count:,} "
                          "(spread over every tensor)")
            done = bar.n
            m.grads = numeric.finite_differences(network, params, X, Y, entries=fd_entries,
                                                 progress=lambda count: bar.update(done + count - bar.n))
        else:
            m.grads = PROVIDERS[m.key](network, params, X, Y)

    bar.close()
    rows = []
    for name in numeric.parameter_names(network):
        diffs = {}
        for m in methods:
            if m.grads is not None and m.key != "backprop":
                result = _diff(np.asarray(m.grads[name], dtype=float), reference[name])
                if result is not None:
                    diffs[m.key] = result
        rows.append((name, params[name].shape, diffs))
    return CheckReport(network, batch, seed, methods, rows)
