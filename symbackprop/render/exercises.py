"""The notes' exercises: derivations to do by hand, each with the verify command that checks it."""

import shlex
from dataclasses import dataclass

from .. import notation as nt
from ..printing import latex


@dataclass
class Exercise:
    question: str  # words
    lhs: object
    answer: object
    network: object  # the network verify checks it on

    @property
    def command(self):
        return verify_command(self.network, self.lhs, None)

    @property
    def title(self):
        return self.question[:1].upper() + self.question[1:]

    @property
    def answer_command(self):
        return verify_command(self.network, self.lhs, self.answer)


def _verify_latex(expr):
    """The printer's LaTeX with σ' written as \\sigma^{\\prime}, so it sits in single quotes."""
    return latex(expr).replace(r"\sigma'", r"\sigma^{\prime}")


def verify_command(network, lhs, answer):
    """``symbackprop verify NET 'lhs = answer'`` (``...`` for the reader's answer)."""
    rhs = "..." if answer is None else _verify_latex(answer)
    return (f"symbackprop verify \\\n    {network.cli_args()} \\\n"
            f"    {shlex.quote(f'{_verify_latex(lhs)} = {rhs}')}")


def exercises(derivation, chain_layers):
    """The exercises for this network: the chain first, then several neurons per layer, then δ."""
    net = derivation.network
    chain_net = net.one_neuron_chain()
    top = chain_layers[0]
    out = [
        Exercise("the bias of the last layer in the one-neuron chain", top.bias.lhs, top.bias.rhs, chain_net),
    ]
    if top.previous is not None:
        out.append(Exercise("the activation of the second-to-last neuron in the chain",
                            top.previous.lhs, top.previous.rhs, chain_net))
        below = chain_layers[1]
        out.append(Exercise("the weight one layer back, with the recursion written out",
                            below.weight.lhs, below.weight_expanded.product, chain_net))
    out += [
        Exercise("a weight of the last layer with several neurons per layer", derivation.weight.lhs,
                 derivation.weight.rhs, net),
        Exercise("a bias of the last layer with several neurons per layer", derivation.bias.lhs,
                 derivation.bias.rhs, net),
        Exercise("an activation of the layer before the output, adding up the paths", derivation.paths.lhs, derivation.paths.rhs, net),
        Exercise("the output error for this network's cost and output activation",
                 nt.delta[nt.L, nt.j], derivation.output_error_indexed, net),
    ]
    if len(derivation.layers) > 1:
        step = derivation.layers[1].delta
        out.append(Exercise("the error one layer back from the output (BP2)", step.index_lhs, step.index_rhs, net))
    return out


