"""The activation and cost registries: SymPy forms agree with each other and with NumPy."""

import warnings

import numpy as np
import pytest
import sympy as sp

from symbackprop import activations, costs

ACTS = sorted(activations.REGISTRY)
ELEMENTWISE = [name for name in ACTS if activations.get(name).elementwise]
COSTS = sorted(costs.REGISTRY)
POINTS = [-3.1, -0.7, 0.4, 1.3, 2.9]  # away from the ReLU kink


def test_at_least_the_required_entries():
    assert {"sigmoid", "tanh", "relu", "identity", "softplus"} <= set(ACTS)
    assert {"quadratic", "half_quadratic", "cross_entropy"} <= set(COSTS)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_from_output_is_the_derivative(name):
    """The lectures' form (σ' = σ(1−σ), ...) equals SymPy's derivative of the expression."""
    entry = activations.get(name)
    t = sp.Symbol("t", real=True)
    from_output = entry.derivative_from_output(entry.expression(t))
    for value in POINTS:
        assert float(from_output.subs(t, value)) == pytest.approx(float(entry.derivative(t).subs(t, value)), rel=1e-12)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_numpy_form_matches_sympy(name):
    entry = activations.get(name)
    t = sp.Symbol("t", real=True)
    expected = [float(entry.expression(t).subs(t, v)) for v in POINTS]
    assert np.allclose(entry.numpy(np.array(POINTS)), expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTS)
def test_numpy_form_is_stable_and_keeps_dtype(name, dtype):
    z = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = np.asarray(activations.get(name).numpy(z))
    assert out.dtype == dtype
    assert np.all(np.isfinite(out))


def test_sigmoid_lecture_form_is_sigma_one_minus_sigma():
    entry = activations.get("sigmoid")
    s = sp.Symbol("s")
    assert sp.expand(entry.lecture_derivative(s) - s * (1 - s)) == 0


@pytest.mark.parametrize("name", COSTS)
def test_cost_numpy_matches_sympy(name):
    entry = costs.get(name)
    a_s, y_s = sp.symbols("a y")
    z = np.array([[-1.2, 0.3, 2.2]])
    a = np.exp(z) / np.exp(z).sum() if entry.needs_normalised_output else 1 / (1 + np.exp(-z))
    y = np.array([[0.1, 0.6, 0.3]])
    expected = sum(float(entry.per_neuron(a_s, y_s).subs({a_s: a[0, i], y_s: y[0, i]})) for i in range(3))
    assert entry.numpy(a, z, y)[0] == pytest.approx(expected, rel=1e-12)


def test_quadratic_has_no_half():
    a, y = sp.symbols("a y")
    assert sp.diff(costs.get("quadratic").per_neuron(a, y), a) == 2 * a - 2 * y
    assert sp.diff(costs.get("half_quadratic").per_neuron(a, y), a) == a - y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_numpy_is_finite_for_huge_z(dtype):
    z = np.array([[-1e4, 1e4]], dtype=dtype)
    a = activations.get("sigmoid").numpy(z)
    y = np.array([[1.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = costs.get("cross_entropy").numpy(a, z, y)
    assert c.dtype == dtype and np.isfinite(c).all()
    assert c[0] == pytest.approx(2e4, rel=1e-6)


def test_softmax_is_normalised_stable_and_its_jacobian_is_the_derivations():
    """The layer's outputs add up to 1 for any z; SymPy's Jacobian a_i(δ_ij − a_j) matches
    central differences of the NumPy form."""
    from symbackprop import notation as nt
    from symbackprop.derivation import normalised_jacobian

    entry = activations.get("softmax")
    z = np.array([[-1e4, 0.0, 3.0, 1e4], [0.1, -0.2, 0.3, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = entry.numpy(z)
    assert np.allclose(a.sum(axis=1), 1) and np.all(np.isfinite(a))
    i, jacobian = normalised_jacobian(entry)
    row = z[1]
    probs = np.exp(row) / np.exp(row).sum()
    for ii in range(4):
        for jj in range(4):
            step = np.zeros(4)
            step[jj] = 1e-6
            numeric = (entry.numpy(row + step)[ii] - entry.numpy(row - step)[ii]) / 2e-6
            value = jacobian.subs({i: ii, nt.j: jj}).subs({nt.a[nt.L, ii]: probs[ii], nt.a[nt.L, jj]: probs[jj]})
            assert float(value) == pytest.approx(numeric, abs=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_likelihood_is_finite_for_huge_z(dtype):
    z = np.array([[-1e4, 1e4, 0.0]], dtype=dtype)
    y = np.array([[1.0, 0.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = costs.get("log_likelihood").numpy(activations.get("softmax").numpy(z), z, y)
    assert c.dtype == dtype and c[0] == pytest.approx(2e4, rel=1e-6)
