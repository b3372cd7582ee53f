"""codegen: the generated gradient functions (NumPy) against an oracle that shares no code with them
(``codegen_oracle``: written by hand for the tests, plain NumPy, float64)."""

import ast
import io
import json
import py_compile
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symbackprop as sb
from symbackprop.cli import main as cli_main
from symbackprop.codegen import compile as generate, source

from codegen_oracle import (BLOCK_SYMPY, ORACLE_ACTIVATIONS, ORACLE_COSTS, close as _close, oracle_backprop,
                            oracle_cost, oracle_finite_differences, oracle_forward, random_problem)
from conftest import ROOT, run_cli

# The grid -----------------------------------------------------------------------------------

SHAPES = [(1, 1, 1, 1), (3, 5, 2), (4, 3), (2, 6, 4, 3)]
PAIRS = [(act, cost) for act in ORACLE_ACTIVATIONS for cost in ORACLE_COSTS  # softmax: test_codegen_softmax.py
         if cost not in ("cross_entropy", "log_likelihood") or act == "sigmoid" and cost == "cross_entropy"]


@pytest.mark.parametrize("sizes", SHAPES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("act,cost", PAIRS, ids=[f"{a}-{c}" for a, c in PAIRS])
def test_against_oracle_every_activation_cost_shape(act, cost, sizes):
    net = sb.Network.parse(list(sizes), act, cost)
    gen = generate(net)
    acts = [act] * (len(sizes) - 1)
    for batch in (1, 1000):
        params, X, Y = random_problem(sizes, batch, seed=len(sizes) + batch)
        want = oracle_backprop(acts, cost, params, X, Y)

        got = gen.gradients(params, X, Y)
        assert set(got) == set(params)
        for name in params:
            assert got[name].shape == params[name].shape and got[name].dtype == np.float64
        _close(got, want, 1e-9, 1e-12)
        np.testing.assert_allclose(gen.cost(params, X, Y), oracle_cost(acts, cost, params, X, Y), rtol=1e-12)
        out = gen.forward(params, X)
        assert out.shape == (batch, sizes[-1])
        np.testing.assert_allclose(out, oracle_forward(acts, params, X)[1], rtol=1e-12, atol=1e-15)

        p32 = {k: v.astype(np.float32) for k, v in params.items()}
        X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
        got32 = gen.gradients(p32, X32, Y32)
        assert all(g.dtype == np.float32 for g in got32.values())
        assert gen.forward(p32, X32).dtype == np.float32
        assert np.asarray(gen.cost(p32, X32, Y32)).dtype == np.float32
        _close(got32, oracle_backprop(acts, cost, p32, X32, Y32), 2e-3, 2e-4)


@pytest.mark.parametrize("sizes", SHAPES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("act,cost", PAIRS, ids=[f"{a}-{c}" for a, c in PAIRS])
def test_against_finite_differences(act, cost, sizes):
    net = sb.Network.parse(list(sizes), act, cost)
    acts = [act] * (len(sizes) - 1)
    params, X, Y = random_problem(sizes, 7, seed=3)
    if act == "relu":  # keep every z away from the kink, where a difference quotient is meaningless
        for layer in range(1, len(sizes)):
            params[f"b{layer}"] = np.abs(params[f"b{layer}"]) + 0.5
        X = np.abs(X)
    got = generate(net).gradients(params, X, Y)
    want = oracle_finite_differences(acts, cost, params, X, Y)
    _close(got, want, 1e-5, 1e-7)


@pytest.mark.parametrize("acts,cost,sizes", [
    ("relu,sigmoid", "cross_entropy", (5, 7, 3)),
    ("tanh,softplus,identity", "quadratic", (3, 4, 6, 2)),
    ("sigmoid,relu,tanh,sigmoid", "half_quadratic", (6, 5, 4, 3, 2)),
])
def test_mixed_activations(acts, cost, sizes):
    names = acts.split(",")
    params, X, Y = random_problem(sizes, 50, seed=11)
    got = generate(sb.Network.parse(list(sizes), acts, cost)).gradients(params, X, Y)
    _close(got, oracle_backprop(names, cost, params, X, Y), 1e-9, 1e-12)


def test_large_arrays_take_the_in_place_path():
    """Above IN_PLACE_FROM elements the code runs in place; it must give the same numbers."""
    sizes = (40, 130, 70, 3)
    for act, cost in PAIRS:
        net = sb.Network.parse(list(sizes), act, cost)
        gen = generate(net)
        params, X, Y = random_problem(sizes, 64, seed=5)
        assert 64 * 70 >= gen.IN_PLACE_FROM
        acts = [act] * 3
        _close(gen.gradients(params, X, Y), oracle_backprop(acts, cost, params, X, Y), 1e-9, 1e-12)


# Numerics -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act,cost", [("sigmoid", "cross_entropy"), ("sigmoid", "quadratic"),
                                      ("softplus", "quadratic"), ("softplus,sigmoid", "cross_entropy"),
                                      ("tanh", "half_quadratic")])
def test_finite_for_huge_z(act, cost, dtype):
    """|z| up to 1e4: no overflow warning, no NaN, no inf (stable sigmoid, softplus, cross-entropy)."""
    for sizes, batch in [((1, 1, 1), 1), ((3, 4, 2), 8), ((2, 80, 2), 100)]:
        gen = generate(sb.Network.parse(list(sizes), act, cost))
        params, X, Y = random_problem(sizes, batch, seed=2)
        params = {k: v.astype(dtype) for k, v in params.items()}
        for scale in (1e4, -1e4):
            X2 = np.full((batch, sizes[0]), scale, dtype)
            X2[::2] *= -1
            params["W1"] = np.ones_like(params["W1"])
            with warnings.catch_warnings():
                # overflow is what an unstable form would warn about; NaN and inf are checked below
                # (OpenBLAS float32 matmul has been seen to raise a spurious "invalid value" flag)
                warnings.filterwarnings("error", message=".*overflow.*")
                warnings.filterwarnings("error", message=".*divide by zero.*")
                out = gen.forward(params, X2)
                c = gen.cost(params, X2, Y.astype(dtype))
                g = gen.gradients(params, X2, Y.astype(dtype))
            assert np.isfinite(out).all() and np.isfinite(c)
            assert all(np.isfinite(v).all() and v.dtype == dtype for v in g.values())
            assert out.dtype == dtype


def test_cross_entropy_cost_is_exact_when_the_output_saturates():
    gen = generate(sb.Network.parse("1,1", "sigmoid", "cross_entropy"))
    params = {"W1": np.array([[1.0]]), "b1": np.array([0.0])}
    # z = 800: a rounds to 1, so ln(1 - a) would be -inf; the true cost is y·0 + (1-y)·800
    assert gen.cost(params, np.array([[800.0]]), np.array([[0.0]])) == pytest.approx(800.0)
    assert gen.cost(params, np.array([[-800.0]]), np.array([[1.0]])) == pytest.approx(800.0)


def test_output_error_simplification_comes_from_sympy():
    """sigmoid + cross-entropy: δᴸ = a − y is printed from the derivation, not special-cased."""
    net = sb.Network.parse("2,3,2", "sigmoid", "cross_entropy")
    d = sb.derive(net)
    a, y = d.output_error_symbols
    assert d.output_error == a - y
    assert "delta2 = a2 - Y\n" in source(net)
    quad = source(sb.Network.parse("2,3,2", "sigmoid", "quadratic"))
    assert "delta2 = (2.0 / batch)*a2*(1.0 - a2)*(a2 - Y)" in quad  # the 1/n of the mean joins the 2


def test_inputs_are_not_modified_and_init_params_is_deterministic():
    net = sb.Network.parse("64,200,30,10", "sigmoid", "quadratic")
    gen = generate(net)
    p = gen.init_params(seed=3)
    assert {k: v.shape for k, v in p.items()} == gen.SHAPES
    q = gen.init_params(seed=3)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert not np.array_equal(p["W1"], gen.init_params(seed=4)["W1"])
    assert gen.init_params(dtype=np.float32)["W2"].dtype == np.float32
    # a normal scaled by the fan-in: std 1/sqrt(n_{l-1}) for weights, 1 for biases
    big = generate(sb.Network.parse("400,500")).init_params(0)
    assert big["W1"].std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert big["W1"].mean() == pytest.approx(0, abs=0.002)
    assert big["b1"].std() == pytest.approx(1, rel=0.1)
    X = np.random.default_rng(0).normal(size=(100, 64))
    Y = np.random.default_rng(1).uniform(size=(100, 10))
    saved = ({k: v.copy() for k, v in p.items()}, X.copy(), Y.copy())
    gen.gradients(p, X, Y), gen.cost(p, X, Y), gen.forward(p, X)
    assert all(np.array_equal(p[k], saved[0][k]) for k in p)
    assert np.array_equal(X, saved[1]) and np.array_equal(Y, saved[2])


# Bad input ----------------------------------------------------------------------------------

def test_shape_mismatch_names_the_expected_shape():
    gen = generate(sb.Network.parse("3,4,2"))
    p = gen.init_params()
    X, Y = np.zeros((5, 3)), np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"X has shape \(5, 4\); expected \(batch, 3\)"):
        gen.forward(p, np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"X has shape \(3,\); expected \(batch, 3\)"):
        gen.gradients(p, np.zeros(3), Y)
    with pytest.raises(ValueError, match=r"Y has shape \(4, 2\); expected \(5, 2\)"):
        gen.gradients(p, X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Y has shape \(5, 3\); expected \(5, 2\)"):
        gen.cost(p, X, np.zeros((5, 3)))
    bad = dict(p, W2=np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"params\['W2'\] has shape \(4, 2\); expected \(2, 4\)"):
        gen.gradients(bad, X, Y)
    with pytest.raises(ValueError, match=r"params has no 'b1'; expected .*'b1': \(4,\)"):
        gen.forward({k: v for k, v in p.items() if k != "b1"}, X)
    with pytest.raises(ValueError, match="no rows"):
        gen.forward(p, np.zeros((0, 3)))


def test_check_uses_the_generated_functions():
    report = sb.check(sb.Network.parse("2,3,2", "tanh,sigmoid", "cross_entropy"))
    assert "generated" in [m.key for m in report.methods]
    assert report.agree
    assert all("generated" in diffs for _, _, diffs in report.rows)


# The written module ---------------------------------------------------------------------------

_RUN = BLOCK_SYMPY + """
import json, numpy as np
sys.path.insert(0, sys.argv[1])
import digits_grad as m
try:
    import sympy
    raise SystemExit("sympy importable")
except ImportError:
    pass
p = m.init_params(seed=0)
rng = np.random.default_rng(0)
X = rng.normal(size=(9, m.SIZES[0]))
Y = rng.uniform(0.1, 0.9, (9, m.SIZES[-1]))
g = m.gradients(p, X, Y)
watched = ("sympy", "symbackprop", "array_api_compat", "torch")  # NumPy calls import none of these
print(json.dumps({"modules": sorted(k for k in sys.modules if k.split(".")[0] in watched),
                  "cost": float(m.cost(p, X, Y)), "out": m.forward(p, X).shape,
                  "grads": {k: v.tolist() for k, v in g.items()},
                  "params": {k: v.tolist() for k, v in p.items()}, "X": X.tolist(), "Y": Y.tolist()}))
"""


def test_written_module_runs_without_sympy(tmp_path):
    net = sb.Network.parse("5,7,3", "relu,sigmoid", "cross_entropy")
    path = sb.write_module(net, tmp_path / "digits_grad.py")
    text = path.read_text()
    py_compile.compile(str(path), doraise=True)
    tree = ast.parse(text)
    top_level = {a.name for node in tree.body if isinstance(node, ast.Import) for a in node.names}
    top_level |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top_level == {"numpy"}  # array_api_compat only inside _library, when another library's array arrives
    everywhere = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert everywhere == {"numpy", "array_api_compat"}
    # the header says which network and how it was made; the lines name their formulas
    assert "5-7-3" in text and "relu, sigmoid" in text and "cross_entropy" in text
    assert "symbackprop codegen --sizes 5,7,3 --activation relu,sigmoid --cost cross_entropy" in text
    for name in ("BP1", "BP2", "BP3", "BP4"):
        assert f"# {name}: " in text
    assert r"\delta^{(l)} = \left(\left(w^{(l+1)}\right)^{T} \delta^{(l+1)}\right) \odot \sigma'(z^{(l)})" in text
    assert text == sb.compile(net).SOURCE
    # vectorized: no Python loop in the functions that compute (one block per layer, unrolled)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    for name in ("forward", "cost", "gradients", "value_and_gradients", "_forward", "_backward", "_cost",
                 "_xp_forward", "_xp_backward", "_xp_cost"):
        assert not any(isinstance(n, (ast.For, ast.While, ast.comprehension)) for n in ast.walk(functions[name]))

    def products(function):  # matrix products: a.dot(b) in the NumPy functions, a @ b in the array API ones
        return sorted(ast.unparse(n) for n in ast.walk(functions[function])
                      if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult)
                      or isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "dot")

    assert products("_forward") == ["X.dot(W1.T)", "a1.dot(W2.T)"]  # one product per layer forward
    assert products("_xp_forward") == ["X @ W1.T", "a1 @ W2.T"]
    # BP4 twice, BP2 once, BP3 twice (a product with a row of ones; a sum in the array API)
    assert products("_backward") == ["delta1.T.dot(X)", "delta2.T.dot(a1)", "delta2.dot(W2)", "ones.dot(delta1)",
                                     "ones.dot(delta2)"]
    assert products("_xp_backward") == ["delta1.T @ X", "delta2 @ W2", "delta2.T @ a1"]

    result = subprocess.run([sys.executable, "-I", "-c", _RUN, str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["modules"] == [] and data["out"] == [9, 3]
    params = {k: np.array(v) for k, v in data["params"].items()}
    X, Y = np.array(data["X"]), np.array(data["Y"])
    want = oracle_backprop(["relu", "sigmoid"], "cross_entropy", params, X, Y)
    _close({k: np.array(v) for k, v in data["grads"].items()}, want, 1e-9, 1e-12)
    assert data["cost"] == pytest.approx(oracle_cost(["relu", "sigmoid"], "cross_entropy", params, X, Y))
    # init_params in the file is the documented scheme, the same numbers in and out of process
    local = sb.compile(net).init_params(seed=0)
    assert all(np.array_equal(local[k], params[k]) for k in local)


def cli_in_process(capsys, *args):
    """The CLI's main() in this process (fast); returns (exit code, stdout, stderr)."""
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_codegen_writes_a_module(tmp_path, capsys):
    out = tmp_path / "sub" / "grad.py"
    result = run_cli("codegen", "--sizes", "3,2", "--activation", "tanh", "-o", str(out))  # the real command
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    py_compile.compile(str(out), doraise=True)
    default = tmp_path / "lectures.py"
    assert cli_in_process(capsys, "codegen", "-o", str(default))[0] == 0
    assert "1-1-1-1" in default.read_text()


@pytest.mark.parametrize("args,message", [
    (["--activation", "sigmod"], "unknown activation 'sigmod' (did you mean 'sigmoid'?)"),
    (["--sizes", "2,3", "--activation", "relu", "--cost", "cross_entropy"], "use sigmoid on the last layer"),
    (["--sizes", "2,0,1"], "every layer needs at least 1"),
])
def test_cli_codegen_bad_network_exits_2(tmp_path, capsys, args, message):
    code, _, err = cli_in_process(capsys, "codegen", *args, "-o", str(tmp_path / "g.py"))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "g.py").exists()


def test_cli_codegen_unwritable_path_exits_2(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    cases = [(blocker / "g.py", "cannot write"), (tmp_path, "must end in .py"),
             (tmp_path / "g.txt", "must end in .py"), (tmp_path / "dir.py", "is a directory")]
    (tmp_path / "dir.py").mkdir()
    import os
    if os.geteuid() != 0:  # root writes anywhere
        cases.append((locked / "g.py", "cannot write"))
    for path, message in cases:
        code, _, err = cli_in_process(capsys, "codegen", "-o", str(path))
        assert code == 2, (path, err)
        assert message in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    result = run_cli("codegen", "-o", str(blocker / "g.py"))  # the real command, once
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "cannot write" in result.stderr
    code, _, err = cli_in_process(capsys, "codegen")
    assert code == 2 and "-o" in err


def test_write_module_errors_are_symbackprop_errors(tmp_path):
    with pytest.raises(sb.SymbackpropError, match="must end in .py"):
        sb.write_module(sb.Network.parse(), tmp_path / "x.txt")


def test_a_new_activation_is_one_registry_entry(monkeypatch):
    """codegen prints whatever the registry holds: softsign z/(1+|z|) is not a chain of one-argument
    steps (z appears twice), so it takes the one-expression path; its slope (1-|a|)^2 runs in place."""
    import sympy

    from symbackprop import activations

    entry = activations.Activation(
        name="softsign", latex=r"\operatorname{softsign}", expression=lambda t: t / (1 + sympy.Abs(t)),
        derivative_from_output=lambda a: (1 - sympy.Abs(a)) ** 2, numpy=lambda z: z / (1 + np.abs(z)),
        output_range=(-1, 1), description="z/(1+|z|)")
    monkeypatch.setitem(activations.REGISTRY, "softsign", entry)
    monkeypatch.setitem(ORACLE_ACTIVATIONS, "softsign", (lambda z: z / (1 + np.abs(z)),
                                                         lambda z: 1 / (1 + np.abs(z)) ** 2))
    sizes = (30, 200, 4)
    gen = generate(sb.Network.parse(list(sizes), "softsign", "quadratic"))
    assert "np.absolute(a1, out=a1)" in gen.SOURCE  # σ' in place
    for batch in (3, 100):  # small and large arrays
        params, X, Y = random_problem(sizes, batch, seed=9)
        _close(gen.gradients(params, X, Y), oracle_backprop(["softsign"] * 2, "quadratic", params, X, Y),
               1e-9, 1e-12)


# The module as engineers use it ---------------------------------------------------------------

@pytest.mark.parametrize("sizes,batch", [((3, 5, 2), 7), ((40, 130, 70, 3), 64)])  # small and in-place arrays
def test_value_and_gradients_is_cost_and_gradients_from_one_pass(sizes, batch):
    gen = generate(sb.Network.parse(list(sizes), "tanh,sigmoid" if len(sizes) == 3 else "relu,tanh,sigmoid",
                                    "cross_entropy"))
    params, X, Y = random_problem(sizes, batch, seed=4)
    acts = list(gen.ACTIVATIONS)
    value, grads = gen.value_and_gradients(params, X, Y)
    assert value == pytest.approx(oracle_cost(acts, "cross_entropy", params, X, Y), rel=1e-12)
    assert value == gen.cost(params, X, Y)
    _close(grads, oracle_backprop(acts, "cross_entropy", params, X, Y), 1e-9, 1e-12)


def test_init_params_default_is_unchanged_and_schemes_by_name():
    gen = generate(sb.Network.parse("400,300,10", "relu,sigmoid", "quadratic"))
    rng = np.random.default_rng(7)  # the documented default: W / sqrt(fan-in), b ~ N(0, 1), order W1, b1, W2, b2
    want = {"W1": rng.standard_normal((300, 400)) / np.sqrt(400), "b1": rng.standard_normal(300),
            "W2": rng.standard_normal((10, 300)) / np.sqrt(300), "b2": rng.standard_normal(10)}
    for got in (gen.init_params(7), gen.init_params(seed=7, dtype=np.float64, scheme="fan_in")):
        assert all(np.array_equal(got[k], want[k]) for k in want)
    stds = {"normal": (1, 1), "fan_in": (1 / np.sqrt(400), 1), "he": (np.sqrt(2 / 400), 0),
            "glorot": (np.sqrt(2 / 700), 0)}
    for scheme, (w_std, b_std) in stds.items():
        p = gen.init_params(seed=1, scheme=scheme, dtype=np.float32)
        assert p["W1"].dtype == np.float32 and p["W1"].shape == (300, 400)
        assert p["W1"].std() == pytest.approx(w_std, rel=0.02), scheme
        assert p["b1"].std() == pytest.approx(b_std, abs=0.15), scheme
        if b_std == 0:
            assert not p["b1"].any() and not p["b2"].any()
    with pytest.raises(ValueError, match="unknown scheme 'xavier'; expected one of 'normal', 'fan_in', 'he', 'glorot'"):
        gen.init_params(scheme="xavier")


def test_sgd_step_plain_and_with_momentum():
    gen = generate(sb.Network.parse("3,4,2"))
    p = gen.init_params(0)
    start = {k: v.copy() for k, v in p.items()}
    g1 = {k: np.full_like(v, 0.5) for k, v in p.items()}
    g2 = {k: np.full_like(v, -1.0) for k, v in p.items()}
    W1 = p["W1"]
    assert gen.sgd_step(p, g1, 0.1) is None
    assert p["W1"] is W1  # in place
    assert all(np.allclose(p[k], start[k] - 0.05) for k in p)
    # momentum 0.9: v1 = -0.1 g1 = -0.05; v2 = 0.9 v1 - 0.1 g2 = -0.045 + 0.1 = 0.055
    p = {k: v.copy() for k, v in start.items()}
    v = gen.sgd_step(p, g1, 0.1, momentum=0.9)
    assert all(np.allclose(v[k], -0.05) for k in v)
    v = gen.sgd_step(p, g2, 0.1, momentum=0.9, velocity=v)
    assert all(np.allclose(v[k], 0.055) and np.allclose(p[k], start[k] + 0.005) for k in p)
    p32 = gen.init_params(0, dtype=np.float32)
    gen.sgd_step(p32, gen.gradients(p32, np.ones((2, 3)), np.zeros((2, 2))), 0.1, momentum=0.5)
    assert all(v.dtype == np.float32 for v in p32.values())
    with pytest.raises(ValueError, match="grads has no 'b1'"):
        gen.sgd_step(p, {"W1": g1["W1"]}, 0.1)


def test_mixed_dtypes_the_parameters_decide():
    gen = generate(sb.Network.parse("3,4,2", "sigmoid", "cross_entropy"))
    params, X, Y = random_problem((3, 4, 2), 6)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    got = gen.gradients(p32, X, Y)  # float64 data
    assert all(g.dtype == np.float32 for g in got.values())
    same = gen.gradients(p32, X.astype(np.float32), Y.astype(np.float32))
    assert all(np.array_equal(got[k], same[k]) for k in got)
    assert np.asarray(gen.cost(p32, X, Y)).dtype == np.float32 and gen.forward(p32, X).dtype == np.float32
    got64 = gen.gradients(params, X.astype(np.float32), Y.astype(int))  # float64 parameters: float64 throughout
    assert all(g.dtype == np.float64 for g in got64.values())
    assert gen.gradients(params, X.tolist(), Y.tolist())["W1"].dtype == np.float64  # lists are NumPy arrays
    with pytest.raises(TypeError, match="share one floating-point dtype.*b1 float32"):
        gen.gradients(dict(params, b1=p32["b1"]), X, Y)
    with pytest.raises(TypeError, match="share one floating-point dtype.*W1 int64"):
        gen.forward({k: np.ones(v.shape, dtype=np.int64) for k, v in params.items()}, X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act,cost", PAIRS, ids=[f"{a}-{c}" for a, c in PAIRS])
def test_errstate_raise_only_for_real_trouble(act, cost, dtype):
    """Under np.errstate(all="raise") nothing raises for |z| up to 1e4: e^{-z} underflowing to 0 or
    overflowing to inf in a sigmoid is the exact route to its value, not trouble."""
    sizes = (2, 80, 3)  # 100 x 80: the in-place path too
    gen = generate(sb.Network.parse(list(sizes), act, cost))
    params, _, Y = random_problem(sizes, 100, seed=2)
    params = {k: v.astype(dtype) for k, v in params.items()}
    params["W1"] = np.ones_like(params["W1"])
    for batch in (100, 3):
        X = np.linspace(-1e4, 1e4, 2 * batch, dtype=dtype).reshape(batch, 2)
        with np.errstate(all="raise"):
            value, grads = gen.value_and_gradients(params, X, Y[:batch].astype(dtype))
            gen.forward(params, X)
        assert np.isfinite(value) and all(np.isfinite(g).all() for g in grads.values())


def test_errstate_raise_still_catches_real_overflow():
    gen = generate(sb.Network.parse("2,3,1", "identity", "quadratic"))
    params = gen.init_params(0)
    X = np.full((2, 2), 1e200)  # z ~ 1e200: (a - y)^2 overflows, a real loss of the cost
    with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="overflow"):
        gen.cost(params, X, np.zeros((2, 1)))


def test_params_must_be_the_dict_init_params_returns():
    gen = generate(sb.Network.parse("3,4,2"))
    p = gen.init_params()
    X, Y = np.zeros((5, 3)), np.zeros((5, 2))
    with pytest.raises(TypeError, match=r"params must be a dict of arrays with these shapes, as init_params "
                                        r"returns: \{'W1': \(4, 3\), 'b1': \(4,\), 'W2': \(2, 4\), 'b2': \(2,\)\}; "
                                        r"got a list"):
        gen.gradients(list(p.values()), X, Y)
    with pytest.raises(ValueError, match=r"params has an unknown key 'W3' \(this network's are W1, b1, W2, b2\)"):
        gen.gradients(dict(p, W3=np.zeros((2, 2))), X, Y)
    with pytest.raises(ValueError, match=r"params has no 'b2'; params has an unknown key 'B2'"):
        gen.forward({**{k: v for k, v in p.items() if k != "b2"}, "B2": p["b2"]}, X)
    with pytest.raises(ValueError, match=r"params\['W1'\] has shape \(3, 4\); expected \(4, 3\) \(transposed\?\)"):
        gen.forward(dict(p, W1=p["W1"].T), X)


def test_transposed_inputs_are_caught_where_the_shape_tells():
    gen = generate(sb.Network.parse("3,4,2"))
    p = gen.init_params()
    X, Y = np.zeros((5, 3)), np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"X has shape \(3, 5\); expected \(batch, 3\): it looks transposed; one "
                                         r"example per row, so pass X.T"):
        gen.gradients(p, X.T, Y)
    with pytest.raises(ValueError, match=r"Y has shape \(2, 5\); expected \(5, 2\): it looks transposed"):
        gen.gradients(p, X, Y.T)
    with pytest.raises(ValueError, match=r"X has shape \(3,\); expected \(batch, 3\): one example is a row, "
                                         r"X.reshape\(1, -1\)"):
        gen.forward(p, np.zeros(3))
    one = generate(sb.Network.parse("3,1"))
    with pytest.raises(ValueError, match=r"Y has shape \(5,\); expected \(5, 1\): one output per example is a "
                                         r"column, Y.reshape\(-1, 1\)"):
        one.cost(one.init_params(), X, np.zeros(5))
    # batch = n0 = nL: a transposed X fits and cannot be caught; the module says so in capitals
    assert "WITHOUT AN ERROR" in gen.SOURCE and "ONE EXAMPLE PER ROW" in gen.SOURCE


def test_generated_module_has_no_unused_names():
    """pyflakes on the generated text: no unused variable, no undefined name."""
    import pyflakes.api as pyflakes_api
    from pyflakes.reporter import Reporter

    for sizes, acts, cost in [("5,7,3", "relu,sigmoid", "cross_entropy"), ("3,4,6,2", "tanh,softplus,identity", "quadratic"),
                              ("1,1", "sigmoid", "half_quadratic")]:
        out = io.StringIO()
        count = pyflakes_api.check(source(sb.Network.parse(sizes, acts, cost)), "generated.py", Reporter(out, out))
        assert count == 0, out.getvalue()


def test_benchmark_runs_and_says_when_there_is_no_gpu():
    """bench_codegen itself (one round of the smallest row): the table has every column it promises."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_codegen.py"), "--rounds", "1",
                             "--dtype", "float32", "--only", "1-1-1-1"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| network, batch, activations | floor | generated | lean NumPy | PyTorch | JAX jit |" in result.stdout
    assert "| 1-1-1-1, 1, sigmoid" in result.stdout
    cuda = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_codegen.py"), "--device", "cuda",
                           "--rounds", "1", "--only", "1-1-1-1"], capture_output=True, text=True, timeout=300)
    assert cuda.returncode == 0, cuda.stderr
    assert "no CUDA GPU on this machine" in cuda.stdout or "generated / PyTorch" in cuda.stdout
