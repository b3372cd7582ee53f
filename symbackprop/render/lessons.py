"""What the worked example's numbers show, for this network (the notes say it only where it occurs).

* vanishing (or exploding) gradients: how the size of ∂C₀/∂w⁽ˡ⁾ changes from the last layer to
  the first, and the largest slope each activation can pass back;
* neurons that are off at the example (σ'(z) = 0): their rows of ∂C₀/∂w⁽ˡ⁾ are zero;
* the output error's cancellation (the cost's slope and σ' cancel), or which costs would cancel
  this output activation's σ';
* why backpropagation is cheap: this network's multiplications for one forward and one backward
  pass, against one pass per parameter (forward mode) or two (central finite differences).

Nothing here branches on an activation or a cost: the facts come from the numbers, the
derivation and the registries.
"""

from dataclasses import dataclass
from functools import lru_cache

from .. import costs
from ..derivation import derive
from ..errors import SymbackpropError
from ..spec import Network
from .example import number

TRENDS = ((0.1, "vanishing"), (0.5, "shrinking"), (2.0, "steady"), (10.0, "growing"), (float("inf"), "exploding"))
"""How the error of layer 1 compares with the output layer's: below 0.1 times it, vanishing ..."""


@dataclass
class Vanishing:
    first: object  # Number: ‖δ⁽¹⁾‖, the error of layer 1
    last: object  # ‖δ⁽ᴸ⁾‖
    ratio: object  # first / last: what BP2 did to the error on its way back
    per_layer: object  # the ratio's (L−1)-th root
    gradient_ratio: object  # ‖∂C₀/∂w⁽¹⁾‖ / ‖∂C₀/∂w⁽ᴸ⁾‖ (the activations feeding each layer come in too)
    trend: str  # a name of TRENDS
    slopes: list  # (activation entry, Number largest σ')


@dataclass
class Off:
    layer: int
    label: object
    neurons: list
    activation: object
    width: int


@dataclass
class Counts:
    parameters: int
    forward: int  # multiplications of one forward pass (the weighted sums)
    backward: int  # BP1, BP2 and BP4 for one example
    tangent: int  # one forward-mode pass per parameter
    differences: int  # two forward passes per parameter

    @property
    def backprop(self):
        return self.forward + self.backward

    @property
    def ratio(self):
        return max(1, round(self.differences / self.backprop))


def counts(network):
    """Multiplications for one example: forward Σ nₗ nₗ₋₁; backward: BP1's nᴸ, BP2's nₗ₊₁ nₗ + nₗ
    for l = L−1..1, BP4's nₗ nₗ₋₁ for every layer."""
    widths = network.sizes
    depth = network.depth
    forward = sum(widths[l] * widths[l - 1] for l in range(1, depth + 1))
    bp2 = sum(widths[l + 1] * widths[l] + widths[l] for l in range(1, depth))
    backward = widths[depth] + bp2 + forward
    params = network.num_parameters
    return Counts(params, forward, backward, params * forward, 2 * params * forward)


def vanishing(network, numbers, curves):
    """How the error's length changes from the output layer back to layer 1 (BP2's work)."""
    layers = {item.number: item for item in numbers["layers"]}
    if network.depth < 2:
        return None
    first, last = layers[1].delta_norm, layers[network.depth].delta_norm
    grad_first, grad_last = layers[1].grad_norm, layers[network.depth].grad_norm
    if last == 0 or first == 0 or grad_last == 0:
        return None
    ratio = first / last
    trend = next(name for limit, name in TRENDS if ratio < limit)
    slopes = [(c.entry, number(c.largest_slope)) for c in curves]
    return Vanishing(number(first), number(last), number(ratio), number(ratio ** (1 / (network.depth - 1))),
                     number(grad_first / grad_last), trend, slopes)


def off_neurons(network, numbers):
    return [Off(item.number, item.label, item.off, item.activation, network.width(item.number))
            for item in sorted(numbers["layers"], key=lambda i: i.number) if item.off]


def cancelling_costs(network):
    """The costs (registry entries) whose slope cancels σ' of this network's output activation."""
    return [costs.get(name) for name in _cancelling(network.activations[-1])]


@lru_cache(maxsize=None)
def _cancelling(activation):
    out = []
    for name in costs.REGISTRY:
        try:
            probe = Network.parse("2,2", activation, name)
        except SymbackpropError:  # the cost needs outputs this activation does not give
            continue
        if derive(probe).output_error_cancels:
            out.append(name)
    return tuple(out)


def lessons(network, derivation, numbers, curves):
    out_layer = next(item for item in numbers["layers"] if item.number == network.depth)
    return dict(
        vanishing=vanishing(network, numbers, curves),
        off=off_neurons(network, numbers),
        cancels=derivation.output_error_cancels,
        cancelling=[c for c in cancelling_costs(network) if c is not network.cost_entry],
        output_layer=out_layer,
        output_slopes=[(j, number(v)) for j, v in enumerate(out_layer.slopes[:4])]
        if network.activation(network.depth).elementwise else [],
        counts=counts(network),
    )
