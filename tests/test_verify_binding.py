"""verify's binding and truth: every equation derive() prints verifies; l and indices range over the network."""

import pytest

from symbackprop.derivation import derive
from symbackprop.spec import Network
from symbackprop.verifier import verify
from symbackprop.verifier.compare import POINTS
from symbackprop.verifier.parse import parse
from symbackprop import notation as nt

NETWORKS = [("1,1,1,1", None, None), ("3,4,2", "relu,sigmoid", "cross_entropy"),
            ("2,3,3,2", "tanh", "half_quadratic"), ("2,2,1", "softplus,identity", None)]


def _equations(network):
    d = derive(network)
    out = [s.latex() for s in d.chain.steps] if network.one_neuron_per_layer else []
    out += [d.weight.latex(), d.bias.latex(), d.paths.latex(), d.general_weight.latex()]
    out += [e.latex() for e in d.bp] + [e.matrix_latex() for e in d.bp]
    out += [part for step in d.layers for part in step.latex().split(r" \qquad ")]
    return out


@pytest.mark.parametrize("spec", NETWORKS, ids=["lectures", "relu-ce", "tanh-half", "softplus-id"])
def test_every_equation_of_the_derivation_verifies(spec):
    network = Network.parse(*spec)
    for equation in _equations(network):
        result = verify(equation, network)
        assert result.equivalent, (equation, result.text())


@pytest.mark.parametrize("spec", NETWORKS[:2], ids=["lectures", "relu-ce"])
def test_expected_verifies_itself(spec):
    network = Network.parse(*spec)
    for lhs in [r"\frac{\partial C_0}{\partial w^{(L)}_{jk}}", r"\frac{\partial C_0}{\partial a^{(L-1)}_k}",
                r"\delta^{(l)}_j", r"\frac{\partial C}{\partial w^{(l)}}", r"\delta^{(L)}"]:
        first = verify(lhs + " = 0", network)
        again = verify(first.expected, network)
        assert again.equivalent, (first.expected, again.text())


def test_parsed_objects_are_notations_own():
    formula = parse(r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \delta^{(L)}_j", Network.parse("3,4,2"))
    assert formula.lhs == nt.partial(nt.C0, nt.w[nt.L, nt.j, nt.k])
    assert formula.rhs[0].args == (nt.a[nt.L - 1, nt.k], nt.delta[nt.L, nt.j])  # in the order written
    chain = parse(r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)}", Network.parse())
    assert chain.lhs == derive(Network.parse()).chain.steps[0].lhs


def test_symbolic_l_is_checked_at_every_layer():
    right_only_at_output = r"\frac{\partial C}{\partial b^l_j} = \sigma'(z^l_j) 2(a^l_j - y_j)"
    result = verify(right_only_at_output, Network.parse("2,3,2"))
    assert not result.equivalent
    assert result.counterexample["binding"]["l"] == 1
    bp2 = verify(r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)", Network.parse("2,3,3,2"))
    assert bp2.equivalent and bp2.layers == [1, 2]  # l + 1 must be a layer: l = 1 .. L-1


def test_free_indices_cover_every_neuron_or_a_fixed_sample():
    small = verify(r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \delta^{(L)}_j", Network.parse("3,4,2"))
    assert small.bindings_total == 8 and small.checked == 8 * POINTS
    big = verify(r"\frac{\partial C_0}{\partial w^{(1)}_{jk}} = a^{(0)}_k \delta^{(1)}_j", Network.parse("784,30,10"))
    assert big.equivalent and big.bindings_total == 30 * 784 and big.checked < big.bindings_total


def test_symbolic_check_where_cheap():
    lecture = verify(r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)")
    assert lecture.symbolic == "identical"
    rewritten = verify(r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} a^{(L)}(1-a^{(L)}) 2(a^{(L)} - y)")
    assert rewritten.equivalent and rewritten.symbolic == "identical"  # a = σ(z), σ' = σ(1 − σ)
