"""The validated network description.  All input validation lives here.

``Network.parse("2,3,2", "relu,sigmoid", "cross_entropy")`` turns what a user typed into a
network or raises :class:`SymbackpropError` with a message that says what to type instead.
"""

import difflib
import math
from dataclasses import dataclass

from . import activations, costs, regularisers
from .errors import SymbackpropError

LECTURE_SIZES = (1, 1, 1, 1)
LECTURE_MULTI_SIZES = (3, 3, 2)  # a small multi-neuron network like the one pictured
DEFAULT_ACTIVATION = "sigmoid"
DEFAULT_COST = "quadratic"

MAX_WEIGHT_LAYERS = 512
MAX_WIDTH = 65536
MAX_PARAMETERS = 100_000_000

_ALIASES = {"logistic": "sigmoid", "linear": "identity", "none": "identity", "mse": "quadratic",
            "squared": "quadratic", "ce": "cross_entropy", "crossentropy": "cross_entropy",
            "cross-entropy": "cross_entropy", "half-quadratic": "half_quadratic"}


def _interval(low, high):
    """(0, ∞) rather than SymPy's (0, oo)."""
    show = lambda v: "∞" if v == float("inf") else "-∞" if v == -float("inf") else str(v)
    return f"({show(low)}, {show(high)})"


def _suggest(name, known):
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _lookup(kind, name, registry):
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in registry:
        return key
    if not key:
        raise SymbackpropError(f"empty {kind} name; known: {', '.join(registry)}")
    raise SymbackpropError(
        f"unknown {kind} '{_shown(name.strip(), 40)}'{_suggest(key, list(registry))}; known: {', '.join(registry)}")


def _regularisation(strengths):
    """(name, λ) pairs from {"l2": "0.1", ...}, each λ a finite number > 0, or a message."""
    out = []
    for name, value in strengths.items():
        if name not in regularisers.REGISTRY:
            raise TypeError(f"unknown regulariser {name!r}")
        if value is None:
            continue
        option = regularisers.get(name).option
        try:
            lam = float(value)
        except (TypeError, ValueError):
            raise SymbackpropError(f"{option} '{value}': give the strength λ as a number, e.g. {option} 0.1") from None
        if not math.isfinite(lam) or lam <= 0:
            raise SymbackpropError(f"{option} {value}: λ must be a number above 0 (leave the option out for none)")
        out.append((name, lam))
    if len(out) > 1:
        raise SymbackpropError(f"give one regulariser ({' or '.join(r.option for r in regularisers.REGISTRY.values())}),"
                               " not several: each is written with the one λ of Nielsen's chapter 3")
    return tuple(out)


def _shown(text, limit=60):
    """User text for a message: control characters as U+XXXX, at most ``limit`` characters."""
    out = "".join(ch if ch.isprintable() else f"U+{ord(ch):04X}" for ch in str(text))
    return out if len(out) <= limit else out[:limit - 1] + "…"


def _width(part, text, i):
    """One entry of --sizes as a number of neurons: ASCII digits only (int() would also take '٣')."""
    digits = part[1:] if part[:1] in "+-" else part
    if not (digits.isascii() and digits.isdigit()):
        raise SymbackpropError(f"--sizes '{_shown(text)}': '{_shown(part, 20)}' is not a whole number of neurons "
                               "written with the digits 0-9")
    if len(digits.lstrip("0")) > 12:  # int() of thousands of digits is slow, then refused
        raise SymbackpropError(f"--sizes '{_shown(text)}': layer {i} has a {len(digits.lstrip('0'))}-digit number of "
                               f"neurons; the limit is {MAX_WIDTH}")
    return int(part)


def parse_sizes(text):
    """'784, 256,10' -> (784, 256, 10), or an error naming the bad entry."""
    if isinstance(text, (list, tuple)):
        parts = [str(p) for p in text]
    else:
        parts = [p for p in str(text).replace(" ", "").split(",")]
    if parts == [""]:
        raise SymbackpropError("--sizes is empty; give the layer widths, e.g. --sizes 2,3,1")
    sizes = []
    for i, part in enumerate(parts):
        if part == "":
            raise SymbackpropError(f"--sizes '{_shown(text)}' has an empty entry; separate widths by single commas, "
                                   "e.g. 2,3,1")
        value = _width(part, text, i)
        if value < 1:
            raise SymbackpropError(f"--sizes '{_shown(text)}': layer {i} has {value} neurons; every layer needs at "
                                   "least 1")
        if value > MAX_WIDTH:
            raise SymbackpropError(f"--sizes '{_shown(text)}': layer {i} has {value} neurons; the limit is {MAX_WIDTH}")
        sizes.append(value)
    if len(sizes) < 2:
        raise SymbackpropError(f"--sizes '{_shown(text)}' gives {len(sizes)} layer; a network needs at least 2 (input "
                               "and output), e.g. 1,1")
    if len(sizes) - 1 > MAX_WEIGHT_LAYERS:
        raise SymbackpropError(f"--sizes gives {len(sizes) - 1} weight layers; the limit is {MAX_WEIGHT_LAYERS}")
    return tuple(sizes)


@dataclass(frozen=True)
class Network:
    """Layer widths (layer 0 is the input), one activation per weight layer, and the cost."""

    sizes: tuple = LECTURE_SIZES
    activations: tuple = (DEFAULT_ACTIVATION,) * 3
    cost: str = DEFAULT_COST
    regularisation: tuple = ()  # (name, λ) pairs: (("l2", 0.1),)

    @classmethod
    def parse(cls, sizes=None, activation=None, cost=None, **strengths):
        """Build a network from user text (or lists); None takes the lectures' defaults.

        ``strengths``: λ of each regulariser by name (``l2=0.1``); None or absent: none.
        """
        sizes = LECTURE_SIZES if sizes is None else parse_sizes(sizes)
        depth = len(sizes) - 1
        if activation is None:
            names = [DEFAULT_ACTIVATION]
        elif isinstance(activation, (list, tuple)):
            names = list(activation)
        else:
            names = str(activation).split(",")
        names = [_lookup("activation", name, activations.REGISTRY) for name in names]
        if len(names) == 1:
            names = names * depth
        elif len(names) != depth:
            raise SymbackpropError(
                f"--activation lists {len(names)} names but sizes {','.join(map(str, sizes))} has "
                f"{depth} weight layer{'s' if depth != 1 else ''}; give one name, or exactly {depth}")
        cost_name = _lookup("cost", DEFAULT_COST if cost is None else str(cost), costs.REGISTRY)
        net = cls(tuple(sizes), tuple(names), cost_name, _regularisation(strengths))
        net.validate()
        return net

    def validate(self):
        params = self.num_parameters
        if params > MAX_PARAMETERS:
            raise SymbackpropError(f"this network has {params:,} parameters; the limit is {MAX_PARAMETERS:,}")
        for layer, name in enumerate(self.activations[:-1], 1):
            if not activations.get(name).elementwise:
                raise SymbackpropError(f"{name} normalises a whole layer into probabilities, so it belongs on the "
                                       f"output layer only, not on layer {layer}")
        cost = costs.get(self.cost)
        output = activations.get(self.activations[-1])
        if not output.elementwise and self.sizes[-1] < 2:
            raise SymbackpropError(f"{output.name} shares one probability among the outputs, so the output layer needs "
                                   f"at least 2 neurons (with one, its output is always 1)")
        if cost.binary_outputs and not output.elementwise:
            fitting = [name for name, entry in costs.REGISTRY.items() if entry.needs_normalised_output]
            raise SymbackpropError(f"the {self.cost} cost treats each output as its own yes/no probability, but "
                                   f"{output.name} makes the outputs share one; use --cost {' or '.join(fitting)} "
                                   f"with {output.name}")
        if cost.needs_normalised_output and output.elementwise:
            fitting = [name for name, entry in activations.REGISTRY.items() if not entry.elementwise]
            raise SymbackpropError(f"the {self.cost} cost needs an output layer whose outputs add up to 1; use "
                                   f"{' or '.join(fitting)} on the last layer (e.g. --activation sigmoid,{fitting[0]})")
        need = cost.needs_output_range
        if need is not None:
            out = activations.get(self.activations[-1])
            low, high = out.output_range
            if low < need[0] or high > need[1]:
                fitting = [name for name, entry in activations.REGISTRY.items()
                           if entry.output_range[0] >= need[0] and entry.output_range[1] <= need[1] and entry.elementwise]
                raise SymbackpropError(
                    f"the {self.cost} cost needs outputs between {need[0]} and {need[1]}, but the output layer's "
                    f"activation {out.name} gives values in {_interval(low, high)}; use "
                    f"{' or '.join(fitting)} on the last layer")

    @property
    def depth(self):
        """L: the number of weight layers, and the index of the output layer."""
        return len(self.sizes) - 1

    def width(self, layer):
        return self.sizes[layer]

    def activation(self, layer):
        """The activation of layer ``layer`` (1..L)."""
        return activations.get(self.activations[layer - 1])

    @property
    def cost_entry(self):
        return costs.get(self.cost)

    @property
    def one_neuron_per_layer(self):
        return all(s == 1 for s in self.sizes)

    def one_neuron_chain(self):
        """The lectures' chain: one neuron per layer, with this network's depth, activations and cost."""
        return Network((1,) * len(self.sizes), self.activations, self.cost)

    @property
    def num_parameters(self):
        return sum(self.sizes[i] * self.sizes[i - 1] + self.sizes[i] for i in range(1, len(self.sizes)))

    @property
    def uniform_activation(self):
        return len(set(self.activations)) == 1

    @property
    def regularisers(self):
        """[(Regulariser, λ)] of this network."""
        return [(regularisers.get(name), lam) for name, lam in self.regularisation]

    def describe(self):
        acts = self.activations[0] if self.uniform_activation else ",".join(self.activations)
        extra = "".join(f", {name.upper()} λ={lam:g}" for name, lam in self.regularisation)
        return f"{'-'.join(map(str, self.sizes))}, {acts}, {self.cost}{extra}"

    def cli_args(self):
        """The NET arguments that give this network back on the command line."""
        acts = self.activations[0] if self.uniform_activation else ",".join(self.activations)
        extra = "".join(f" --{name} {lam:g}" for name, lam in self.regularisation)
        return f"--sizes {','.join(map(str, self.sizes))} --activation {acts} --cost {self.cost}{extra}"

    def to_dict(self):
        out = {"sizes": list(self.sizes), "activations": list(self.activations), "cost": self.cost}
        if self.regularisation:
            out["regularisation"] = dict(self.regularisation)
        return out
