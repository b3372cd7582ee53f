"""codegen on other array libraries: the same generated module fed array-api-strict arrays and PyTorch
CPU tensors, against the hand-written NumPy oracle (``codegen_oracle``) and finite differences.

array-api-strict is the standard and nothing more (no NumPy extras, no mixing of bool and float, no
in-place updates on purpose), so passing on it shows the array API functions are generic; PyTorch is
the library engineers actually bring.  Results must be arrays of the input's library, with its dtype,
on its device.
"""

import subprocess
import sys

import numpy as np
import pytest

import symbackprop as sb
from symbackprop.codegen import compile as generate

from codegen_oracle import (BLOCK_SYMPY, ORACLE_ACTIVATIONS, ORACLE_COSTS, close, oracle_backprop, oracle_cost,
                            oracle_forward, probability_targets, random_problem)

xps = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")
pytest.importorskip("array_api_compat")


class Strict:
    name = "array_api_strict"
    array_type = type(xps.asarray(0.0))

    @staticmethod
    def put(value, device=None):
        return xps.asarray(np.asarray(value), device=device)

    @staticmethod
    def get(value):
        return np.asarray(value)

    @staticmethod
    def dtype_name(value):
        return str(value.dtype).rsplit(".", 1)[-1]


class Torch:
    name = "torch"
    array_type = torch.Tensor

    @staticmethod
    def put(value, device=None):
        return torch.from_numpy(np.ascontiguousarray(value)).to(device or "cpu")

    @staticmethod
    def get(value):
        return value.detach().cpu().numpy()

    @staticmethod
    def dtype_name(value):
        return str(value.dtype).rsplit(".", 1)[-1]


LIBRARIES = [Strict, Torch]
SHAPES = [(1, 1, 1, 1), (3, 5, 2), (2, 6, 4, 3)]
PAIRS = [(act, cost) for act in ORACLE_ACTIVATIONS for cost in ORACLE_COSTS
         if cost not in ("cross_entropy", "log_likelihood") or act == "sigmoid" and cost == "cross_entropy"]


def put_all(lib, params, X, Y, dtype, device=None):
    return ({k: lib.put(v.astype(dtype), device) for k, v in params.items()},
            lib.put(X.astype(dtype), device), lib.put(Y.astype(dtype), device))


@pytest.mark.parametrize("lib", LIBRARIES, ids=lambda lib: lib.name)
@pytest.mark.parametrize("sizes", SHAPES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("act,cost", PAIRS, ids=[f"{a}-{c}" for a, c in PAIRS])
def test_against_oracle_on_other_libraries(lib, act, cost, sizes):
    gen = generate(sb.Network.parse(list(sizes), act, cost))
    acts = [act] * (len(sizes) - 1)
    params, X, Y = random_problem(sizes, 9, seed=len(sizes))
    want = oracle_backprop(acts, cost, params, X, Y)
    for dtype, rtol, atol in [(np.float64, 1e-9, 1e-12), (np.float32, 2e-3, 2e-4)]:
        p, x, y = put_all(lib, params, X, Y, dtype)
        got = gen.gradients(p, x, y)
        assert set(got) == set(params)
        for name, value in got.items():
            assert isinstance(value, lib.array_type), (name, type(value))
            assert lib.dtype_name(value) == np.dtype(dtype).name
            assert tuple(value.shape) == params[name].shape
        close({k: lib.get(v) for k, v in got.items()}, want, rtol, atol)
        out = gen.forward(p, x)
        assert isinstance(out, lib.array_type) and lib.dtype_name(out) == np.dtype(dtype).name
        np.testing.assert_allclose(lib.get(out), oracle_forward(acts, params, X)[1], rtol=rtol, atol=atol)
        c = gen.cost(p, x, y)
        assert isinstance(c, lib.array_type) and c.shape == () and lib.dtype_name(c) == np.dtype(dtype).name
        assert float(lib.get(c)) == pytest.approx(oracle_cost(acts, cost, params, X, Y), rel=rtol)


@pytest.mark.parametrize("lib", LIBRARIES, ids=lambda lib: lib.name)
@pytest.mark.parametrize("acts,cost,sizes", [
    ("relu,sigmoid", "cross_entropy", (5, 7, 3)),
    ("tanh,softplus,identity", "quadratic", (3, 4, 6, 2)),
    ("sigmoid,relu,tanh,sigmoid", "half_quadratic", (6, 5, 4, 3, 2)),
])
def test_mixed_activations_and_value_and_gradients(lib, acts, cost, sizes):
    names = acts.split(",")
    gen = generate(sb.Network.parse(list(sizes), acts, cost))
    params, X, Y = random_problem(sizes, 50, seed=11)
    p, x, y = put_all(lib, params, X, Y, np.float64)
    value, grads = gen.value_and_gradients(p, x, y)
    close({k: lib.get(v) for k, v in grads.items()}, oracle_backprop(names, cost, params, X, Y), 1e-9, 1e-12)
    assert float(lib.get(value)) == pytest.approx(oracle_cost(names, cost, params, X, Y), rel=1e-12)


def _assert_finite_differences(gen, p, x, y, **keywords):
    """The generated gradients equal central differences of the generated cost, entry by entry, in PyTorch."""
    got = gen.gradients(p, x, y, **keywords)
    h = 1e-6
    for name, value in p.items():
        numeric = torch.zeros_like(value)
        flat, out = value.view(-1), numeric.view(-1)
        for i in range(flat.numel()):
            saved = flat[i].item()
            flat[i] = saved + h
            up = gen.cost(p, x, y, **keywords).item()
            flat[i] = saved - h
            down = gen.cost(p, x, y, **keywords).item()
            flat[i] = saved
            out[i] = (up - down) / (2 * h)
        torch.testing.assert_close(got[name], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("act,cost", [("sigmoid", "cross_entropy"), ("tanh", "quadratic"), ("softplus", "half_quadratic"),
                                      ("relu", "quadratic")])
def test_torch_gradients_against_finite_differences_of_its_own_cost(act, cost):
    """Central differences of the generated cost, computed by PyTorch in float64, entry by entry."""
    sizes = (3, 4, 2)
    gen = generate(sb.Network.parse(list(sizes), act, cost))
    params, X, Y = random_problem(sizes, 6, seed=3)
    if act == "relu":  # away from the kink, where a difference quotient means nothing
        params = {k: np.abs(v) + 0.3 if k[0] == "b" else v for k, v in params.items()}
        X = np.abs(X)
    p, x, y = put_all(Torch, params, X, Y, np.float64)
    _assert_finite_differences(gen, p, x, y)


@pytest.mark.parametrize("lib", LIBRARIES, ids=lambda lib: lib.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_for_huge_z(lib, dtype):
    gen = generate(sb.Network.parse([2, 6, 3], "softplus,sigmoid", "cross_entropy"))
    params, _, Y = random_problem((2, 6, 3), 4, seed=2)
    params["W1"] = np.ones_like(params["W1"])
    X = np.array([[1e4, 1e4], [-1e4, -1e4], [1e4, 0], [-1e4, 0]])
    p, x, y = put_all(lib, params, X, Y, dtype)
    value, grads = gen.value_and_gradients(p, x, y)
    assert np.isfinite(lib.get(value))
    assert all(np.isfinite(lib.get(g)).all() and lib.dtype_name(g) == np.dtype(dtype).name for g in grads.values())
    assert np.isfinite(lib.get(gen.forward(p, x))).all()


# A softmax output and regularisation ------------------------------------------------------------

CHAPTER3 = [  # (sizes, activations, cost, regulariser): Nielsen's chapter 3 and its neighbours
    ((4, 6, 3), "sigmoid,softmax", "log_likelihood", None),
    ((4, 6, 3), "relu,softmax", "log_likelihood", ("l2", 5.0)),
    ((3, 5, 4), "tanh,softmax", "quadratic", ("l1", 0.2)),
    ((3, 5, 4), "tanh,softmax", "half_quadratic", None),
    ((3, 5, 4), "tanh,softmax", "half_quadratic", ("l2", 0.3)),
    ((3, 5, 2), "sigmoid", "cross_entropy", ("l2", 0.5)),
    ((3, 5, 2), "softplus,identity", "quadratic", ("l1", 0.5)),
]


def chapter3_problem(sizes, cost, batch, seed):
    params, X, Y = random_problem(sizes, batch, seed=seed)
    if cost == "log_likelihood":
        Y = probability_targets(batch, sizes[-1], seed=seed)
    return params, X, Y


@pytest.mark.parametrize("lib", LIBRARIES, ids=lambda lib: lib.name)
@pytest.mark.parametrize("sizes,acts,cost,regulariser", CHAPTER3,
                         ids=[f"{a}-{c}-{r[0] if r else 'none'}" for _, a, c, r in CHAPTER3])
def test_softmax_and_regularisation_on_other_libraries(lib, sizes, acts, cost, regulariser):
    net = sb.Network.parse(list(sizes), acts, cost, **(dict([regulariser]) if regulariser else {}))
    gen = generate(net)
    names = list(net.activations)
    params, X, Y = chapter3_problem(sizes, cost, 9, seed=len(acts))
    for n in (None, 1000):
        want = oracle_backprop(names, cost, params, X, Y, regulariser, n)
        want_cost = oracle_cost(names, cost, params, X, Y, regulariser, n)
        for dtype, rtol, atol in [(np.float64, 1e-9, 1e-12), (np.float32, 2e-3, 2e-4)]:
            p, x, y = put_all(lib, params, X, Y, dtype)
            value, grads = gen.value_and_gradients(p, x, y, n=n)
            assert all(isinstance(g, lib.array_type) and lib.dtype_name(g) == np.dtype(dtype).name for g in grads.values())
            close({k: lib.get(v) for k, v in grads.items()}, want, rtol, atol)
            close({k: lib.get(v) for k, v in gen.gradients(p, x, y, n=n).items()}, want, rtol, atol)
            assert isinstance(value, lib.array_type) and lib.dtype_name(value) == np.dtype(dtype).name
            assert float(lib.get(value)) == pytest.approx(want_cost, rel=rtol)
            assert float(lib.get(gen.cost(p, x, y, n=n))) == pytest.approx(want_cost, rel=rtol)
            out = lib.get(gen.forward(p, x))
            np.testing.assert_allclose(out, oracle_forward(names, params, X)[1], rtol=rtol, atol=atol)


@pytest.mark.parametrize("lib", LIBRARIES, ids=lambda lib: lib.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_log_likelihood_exact_for_huge_z(lib, dtype):
    """z = (1e4, 0, -1e4) with one-hot targets: the per-example costs 0, 1e4, 2e4 exactly (log-sum-exp)."""
    gen = generate(sb.Network.parse("3,3", "softmax", "log_likelihood"))
    params = {"W1": np.eye(3), "b1": np.zeros(3)}
    X = np.array([[1e4, 0, -1e4]] * 3)
    p, x, y = put_all(lib, params, X, np.eye(3), dtype)
    costs = [float(lib.get(gen.cost(p, x[i:i + 1, :], y[i:i + 1, :]))) for i in range(3)]
    assert costs == [0.0, 1e4, 2e4]
    value, grads = gen.value_and_gradients(p, x, y)
    assert float(lib.get(value)) == pytest.approx(1e4)
    np.testing.assert_allclose(lib.get(grads["b1"]), [2 / 3, -1 / 3, -1 / 3], rtol=1e-6)
    assert all(np.isfinite(lib.get(g)).all() and lib.dtype_name(g) == np.dtype(dtype).name for g in grads.values())
    assert np.array_equal(lib.get(gen.forward(p, x)), np.array([[1.0, 0, 0]] * 3))


def test_torch_softmax_and_l2_against_finite_differences_of_its_own_cost():
    """Central differences of the generated regularised cost (with n=), computed by PyTorch in float64."""
    sizes = (3, 4, 3)
    gen = generate(sb.Network.parse(list(sizes), "tanh,softmax", "log_likelihood", l2=2.0))
    params, X, Y = chapter3_problem(sizes, "log_likelihood", 6, seed=3)
    p, x, y = put_all(Torch, params, X, Y, np.float64)
    _assert_finite_differences(gen, p, x, y, n=40)


def test_results_stay_on_the_device_of_the_inputs():
    """No GPU here: PyTorch's meta device (shapes and dtypes only) and array-api-strict's second device
    stand in for one; every result must be on the inputs' device."""
    for net in (sb.Network.parse("4,5,3", "relu,sigmoid", "cross_entropy"),
                sb.Network.parse("4,5,3", "relu,softmax", "log_likelihood", l2=1.0)):
        gen = generate(net)
        params, X, _ = random_problem((4, 5, 3), 7)
        Y = probability_targets(7, 3)
        p, x, y = put_all(Torch, params, X, Y, np.float32, device="meta")
        for result in [*gen.gradients(p, x, y).values(), gen.forward(p, x), gen.cost(p, x, y)]:
            assert result.device.type == "meta" and result.dtype == torch.float32
        device = xps.Device("device1")
        p, x, y = put_all(Strict, params, X, Y, np.float64, device=device)
        value, grads = gen.value_and_gradients(p, x, y, n=100)
        assert value.device == device and all(g.device == device for g in grads.values())


def test_dtype_rule_on_torch_the_parameters_decide():
    gen = generate(sb.Network.parse("3,4,2", "tanh", "quadratic"))
    params, X, Y = random_problem((3, 4, 2), 5)
    p, _, _ = put_all(Torch, params, X, Y, np.float32)
    grads = gen.gradients(p, Torch.put(X), Torch.put(Y))  # float64 data, float32 parameters
    assert all(g.dtype == torch.float32 for g in grads.values())
    close({k: Torch.get(v) for k, v in grads.items()}, oracle_backprop(["tanh"] * 2, "quadratic", params, X, Y),
          2e-3, 2e-4)
    mixed = dict(p, b2=p["b2"].double())
    with pytest.raises(TypeError, match="share one floating-point dtype.*b2 torch.float64"):
        gen.gradients(mixed, Torch.put(X), Torch.put(Y))


def test_one_library_at_a_time_and_a_clear_message_without_array_api_compat(monkeypatch):
    gen = generate(sb.Network.parse("3,4,2"))
    params, X, Y = random_problem((3, 4, 2), 5)
    with pytest.raises(TypeError, match=r"all be arrays of one library .*X: torch.Tensor"):
        gen.gradients(params, Torch.put(X), Y)
    torch_params = {k: Torch.put(v) for k, v in params.items()}
    monkeypatch.setitem(sys.modules, "array_api_compat", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"torch.Tensor need the package array-api-compat \(pip install"):
        gen.forward(torch_params, Torch.put(X))
    assert gen.forward(params, X).shape == (5, 2)  # NumPy never needs it


def test_sgd_step_on_torch_tensors_in_place():
    gen = generate(sb.Network.parse("3,4,2", "sigmoid", "cross_entropy"))
    params, X, Y = random_problem((3, 4, 2), 20)
    Y = (Y > 0.5).astype(float)
    p, x, y = put_all(Torch, params, X, Y, np.float32)
    W1 = p["W1"]
    before = gen.cost(p, x, y).item()
    velocity = None
    for _ in range(20):
        velocity = gen.sgd_step(p, gen.gradients(p, x, y), 0.5, momentum=0.9, velocity=velocity)
    assert p["W1"] is W1 and W1.dtype == torch.float32  # updated in place
    assert gen.cost(p, x, y).item() < before


_RUN_TORCH = BLOCK_SYMPY + """
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
import grad_module as m
p = {k: torch.from_numpy(v) for k, v in m.init_params(seed=1, dtype=np.float32).items()}
X = torch.linspace(-2, 2, 3 * m.SIZES[0], dtype=torch.float32).reshape(3, m.SIZES[0])
Y = torch.full((3, m.SIZES[-1]), 0.25)
g = m.gradients(p, X, Y)
print(sorted({type(v).__name__ + " " + str(v.dtype) for v in g.values()}),
      sorted(k for k in sys.modules if k.split(".")[0] in ("sympy", "symbackprop")))
"""


def test_written_module_runs_on_torch_without_sympy(tmp_path):
    net = sb.Network.parse("3,5,2", "tanh,sigmoid", "cross_entropy")
    sb.write_module(net, tmp_path / "grad_module.py")
    result = subprocess.run([sys.executable, "-c", _RUN_TORCH, str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['Tensor torch.float32'] []"
