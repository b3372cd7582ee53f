r"""Families of fuzzed inputs for verify, shared by the hypothesis test and the 100,000-input benchmark.

Each family is a function ``family(draw) -> formula`` that draws what it needs from ``draw``,
an object with ``integer(lo, hi)``, ``choice(seq)`` and ``text(alphabet, max_size)``: the test
passes one backed by hypothesis (which shrinks a failure to a small example), the benchmark one
backed by ``random.Random`` (fast, seeded).  The families are the inputs issue 10 found
trouble with — towers of exponentials, nested sums over one chain of letters, powers of ∇ₐC,
stray C, Cₓ and i, huge integer literals, deep nesting, long products, control characters,
right-hand sides that are not finite real numbers — plus the notation verify reads (so that
fuzzing also shakes what is accepted) and plain random text.
"""

import random

from symbackprop.spec import Network

NETWORKS = [("1,1,1,1", None, None), ("3,4,2", None, None), ("2,3,3,2", "tanh", "half_quadratic"),
            ("3,4,2", "relu,sigmoid", "cross_entropy"), ("1,1,1,1", "relu", None), ("2,2,2", "softplus,identity", None),
            ("1,1,1,1,1,1,1,1,1,1,1,1,1", None, None), ("16,8,4", "leaky_relu,sigmoid", "half_quadratic")]

LHS = [r"\frac{\partial C_0}{\partial w^{(L)}}", r"\frac{\partial C_0}{\partial b^{(L)}}",
       r"\frac{\partial C_0}{\partial a^{(L-1)}}", r"\frac{\partial C_0}{\partial w^{(L)}_{jk}}",
       r"\frac{\partial C_0}{\partial a^{(L-1)}_k}", r"\delta^l_j", r"\delta^L", r"\frac{\partial C}{\partial w^l}",
       r"\frac{\partial C}{\partial b^l_j}", r"\nabla_b C", r"{\partial C \over \partial w^{(L)}}",
       r"\frac{\mathrm{d} C_0}{\mathrm{d} w^{(L)}}", r"\frac{\partial z^{(L)}}{\partial w^{(L)}}"]
QUANTITIES = ["a^{(L)}", "a^{(L-1)}", "z^{(L)}", "w^{(L)}", "b^{(L)}", "y", r"\sigma'(z^{(L)})", r"\sigma(z^{(L)})",
              "a^{(L)}_j", "a^{(L-1)}_k", "w^{(L)}_{jk}", "y_j", r"\delta^{(L)}_j", r"\delta^l", "x", "n_L", "2", "0.5",
              r"\nabla_a C", r"\frac{\partial C_0}{\partial a^{(L)}}", r"\mathbf{w}^l", r"\boldsymbol{\delta}^{l+1}",
              "(a^{l-1})^{\\mathrm{T}}", r"\Sigma'(z^L)", r"\operatorname{diag}(\sigma'(z^L))", "e", r"\tanh(z^{(L)})"]
STRAY = ["C", "C_x", "C_0", "i", "j", "k", "L", "l", "n", "T", "x", "y", r"\ell", "0", "-1"]
NOTATION = [
    r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)",
    r"\frac{\mathrm{d} C_0}{\mathrm{d} w^{(L)}} = a^{(L-1)} \sigma^{'}(z^{(L)}) 2(a^{(L)} - y)\,.",
    r"{\partial C_0 \over \partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y).",
    r"\frac{\partial C_0}{\partial a^{(L)}} = \frac{\partial}{\partial a^{(L)}}(a^{(L)}-y)^2",
    r"\frac{\partial C_0}{\partial a} = \frac{\partial (a-y)^2}{\partial a}",
    r"\begin{equation}\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)\end{equation}",
    r"\begin{align*}\frac{\partial C_0}{\partial b^{(L)}} &= \sigma'(z^{(L)}) \; 2(a^{(L)} - y) \\ &= 2 \sigma'(z^{(L)})"
    r" (a^{(L)} - y)\end{align*}",
    r"\frac{\partial C}{\partial w^{(L)}} = \frac{1}{n}\sum_x \frac{\partial C_x}{\partial w^{(L)}}",
    r"\delta^L = \Sigma'(z^L) \nabla_a C", r"\delta^L = \operatorname{diag}(\sigma'(z^L)) \nabla_a C",
    r"\nabla_b C = \delta", r"\nabla_w C = \delta (a^{L-1})^T",
    r"\frac{\partial C}{\partial \mathbf{w}^l} = \boldsymbol{\delta}^l (\mathbf{a}^{l-1})^{\mathrm{T}}",
    r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)",
    r"\frac{\partial C_0}{\partial a^{(L-1)}_k} = \sum_{j=0}^{n_L-1} w^{(L)}_{jk} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)",
]
TOKENS = [r"\frac", r"\partial", r"\sigma", r"\sigma'", r"\sigma^{\prime}", r"\sigma^{'}", r"\delta", r"\nabla_a",
          r"\nabla_b", r"\sum", r"\sum_{j=0}^{n_L-1}", r"\sum_x", r"\exp", r"\tanh", r"\tanh^2", r"\ln", r"\log",
          r"\cdot", r"\times", r"\odot", r"\circ", r"\left(", r"\right)", r"\mathrm{d}", r"\mathrm{T}", r"\mathbf{",
          r"\boldsymbol", r"\over", r"\Sigma'", r"\operatorname{diag}", r"\begin{equation}", r"\end{equation}",
          r"\begin{align*}", r"\end{align*}", "&", r"\\", r"\;", r"\,", r"\!", ".", "^T", "^{(L)}", "^{(L-1)}",
          "^{(2)}", "^{l}", "^{l+1}", "^L", "_j", "_{jk}", "_{j,k}", "_{01}", "_k", "C_0", "C_x", "C", "a", "z", "w",
          "b", "y", "x", "e", "n", "n_L", "=", "+", "-", "(", ")", "{", "}", "[", "]", "^", "_", "'", "2", "1", "0",
          "0.5", "/", ",", " ", r"\input", r"\def", "$", r"\alpha", "i", "j", "k", "l", "L", "T", "**", ";",
          "\x07", "\x00", "σ", "∂", "99999999999999999999"]
ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDELNTXYZ0123456789 \\{}()[]^_'=+-*/.,;:!&$%#~|<>\"`@?"
            "\x00\x07\x1b\x7f\t\nσδ∂∑∇⊙·×−′ℓᵀ²ü€\u200b\u202e")


class RandomDraw:
    """``draw`` backed by random.Random: fast and seeded, for the benchmark."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def integer(self, lo, hi):
        return self.rng.randint(lo, hi)

    def choice(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def text(self, alphabet, max_size):
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(0, max_size)))


class HypothesisDraw:
    """``draw`` backed by hypothesis' ``data.draw``: failures shrink to small examples."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def integer(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))

    def choice(self, seq):
        return self.data.draw(self.st.sampled_from(seq))

    def text(self, alphabet, max_size):
        return self.data.draw(self.st.text(alphabet=alphabet, max_size=max_size))


def _lhs(draw):
    return draw.choice(LHS)


def _place(draw, piece):
    """``piece`` somewhere in an equation: alone, as a factor, a term, an exponent, an argument, a bound."""
    lhs, q = _lhs(draw), draw.choice(QUANTITIES)
    return draw.choice([
        f"{lhs} = {piece}", f"{lhs} = {q} {piece}", f"{lhs} = {q} + {piece}", f"{lhs} = {q}^{{{piece}}}",
        f"{lhs} = \\sigma({piece})", f"{lhs} = \\frac{{{q}}}{{{piece}}}", f"{lhs} = \\sum_{{j=0}}^{{{piece}}} a_j",
        f"{lhs} = a^{{({piece})}}", f"{lhs} = a_{{{piece}}}", f"{piece} = {q}", f"{lhs} = {q} = {piece}",
        f"{lhs} = \\ln({piece})", f"{lhs} = e^{{{piece}}}", f"{lhs} = {q}_{{{piece}}}",
    ])


def exp_tower(draw):
    r"""\exp(\exp(\exp(100))), e^{e^{e^{1000}}} and their kin, anywhere in a formula."""
    depth, top = draw.integer(1, 6), draw.choice(["1", "2", "10", "100", "700", "710", "1000", "-1000", "0.5"])
    piece = top
    for _ in range(depth):
        piece = draw.choice([f"\\exp({piece})", f"e^{{{piece}}}", f"\\exp {piece}", f"10^{{{piece}}}",
                             f"({piece})^{{64}}", f"\\ln({piece})", f"\\tanh({piece})", f"2^{{{piece}}}"])
    return _place(draw, piece)


def nested_sums(draw):
    r"""\sum_{i} w^{(L)}_{ij} \sum_{j} w^{(L)}_{jk} \sum_{k} … with 1–14 sums over one chain of letters."""
    letters = draw.choice(["ijk", "jk", "ijkm", "kj", "pq"])
    out = []
    for n in range(draw.integer(1, 14)):
        i, j = letters[n % len(letters)], letters[(n + 1) % len(letters)]
        layer = draw.choice(["(L)", "(L-1)", "l", "(l+1)", "(2)"])
        out.append(draw.choice([f"\\sum_{{{i}}} w^{{{layer}}}_{{{i}{j}}}", f"\\sum_{i} a^{{{layer}}}_{i}",
                                f"\\sum_{{{i}=0}}^{{n_L-1}} \\delta^{{{layer}}}_{i} w^{{{layer}}}_{{{j}{i}}}"]))
    return f"{draw.choice(LHS)} = " + " ".join(out) + draw.choice(["", " a_k", r" \sigma'(z^{(L)}_j)", " y_j"])


def grad_powers(draw):
    r"""Powers, transposes and products of ∇ₐC."""
    power = draw.choice(["2", "{2}", "T", "{-1}", "{0.5}", "{64}", "{65}", "n", "{\\prime}"])
    piece = draw.choice([f"(\\nabla_a C)^{power}", f"\\nabla_a C^{power}", f"(\\nabla_a C)^{power} \\odot \\sigma'(z^L)",
                         r"\frac{1}{\nabla_a C}", r"\nabla_a C \nabla_a C", r"\exp(\nabla_a C)",
                         r"\sigma(\nabla_a C)", r"\nabla_{a^{(L)}} C", f"\\nabla_{{b^l}} C^{power}"])
    return draw.choice([r"\delta^L", r"\delta^{(L)}_j", LHS[0]]) + " = " + piece


def stray_symbols(draw):
    """C, C_x, C_0, i, j, L, n, T where a value, an index, a layer or a bound is expected."""
    return _place(draw, draw.choice(STRAY))


def huge_literals(draw):
    """Integer literals of up to 5,000 digits, and powers that would make them."""
    digits = "".join(draw.choice("0123456789") for _ in range(draw.integer(1, 12))) * draw.integer(1, 400)
    piece = draw.choice([digits[:5000] or "0", f"{digits[:40]}^{{64}}", f"({digits[:20]}^{{64}})^{{64}}",
                         f"0.{digits[:5000]}", f"\\frac{{{digits[:60]}}}{{{digits[:60] or 1}}}",
                         "2^{2^{2^{2^{2}}}}", f"10^{{{draw.integer(0, 400)}}}"])
    return _place(draw, piece)


def deep_nesting(draw):
    """Brackets, braces, fractions and functions nested up to 120 deep, with and without parentheses."""
    depth = draw.integer(1, 120)
    kind = draw.choice(["paren", "brace", "frac", "sigma", "ln-bare", "sigma-bare", "neg", "power", "partial",
                        "sub", "bold", "sqrt"])
    inner = "a^{(L)}"
    for _ in range(depth):
        inner = {"paren": f"({inner})", "brace": f"{{{inner}}}", "frac": f"\\frac{{{inner}}}{{2}}",
                 "sigma": f"\\sigma({inner})", "ln-bare": f"\\ln {inner}", "sigma-bare": f"\\sigma {inner}",
                 "neg": f"-{inner}", "power": f"{inner}^2", "partial": f"\\partial {inner}", "sub": f"{inner}_j",
                 "bold": f"\\mathbf {inner}", "sqrt": f"\\sqrt{{{inner}}}"}[kind]
    return f"{_lhs(draw)} = {inner}"


def long_products(draw):
    """Products of up to 400 factors (side by side or with \\cdot), sums of up to 400 terms."""
    n = draw.integer(1, 400)
    factor = draw.choice(QUANTITIES)
    joiner = draw.choice([" ", r" \cdot ", "", " + ", " - ", r" \odot ", " / ", r" \times "])
    return f"{_lhs(draw)} = " + joiner.join([factor] * n)


def control_characters(draw):
    """A control or invisible character somewhere in a right answer."""
    text = draw.choice(NOTATION)
    i = draw.integer(0, len(text))
    return text[:i] + draw.choice(["\x07", "\x00", "\x1b", "\x7f", "\x08", "\u200b", "\u202e", "\x0c", "\x85"]) + text[i:]


def not_finite(draw):
    r"""Right-hand sides that are not finite real numbers: \frac{1}{0}, \ln(-1), e^{e^{e^{1000}}} …"""
    piece = draw.choice([r"\frac{1}{0}", r"\ln(-1)", r"\ln(0)", r"e^{e^{e^{1000}}}", r"(-1)^{0.5}", r"0^{-1}",
                         r"\frac{1}{a^{(L)} - a^{(L)}}", r"\ln(a^{(L)} - 5)", r"\frac{1}{\sigma(z^{(L)}) - \sigma(z^{(L)})}",
                         r"(-8)^{\frac{1}{3}}", r"\frac{a^{(L)}}{0 \cdot y}", r"\ln(\ln(\frac12))", r"e^{710}",
                         r"\exp(\exp(\exp(100)))", r"(y - 2)^{0.5}", r"\frac{1}{z^{(L)} - z^{(L)}}", r"10^{400}"])
    return _place(draw, piece) if draw.integer(0, 1) else f"{_lhs(draw)} = {piece}"


def notation(draw):
    """The forms verify reads, right or slightly changed."""
    text = draw.choice(NOTATION)
    if draw.integer(0, 1):
        i = draw.integer(0, len(text))
        text = text[:i] + draw.choice(TOKENS) + text[i:]
    return text


def token_soup(draw):
    return "".join(draw.choice(TOKENS) for _ in range(draw.integer(0, 30)))


def random_text(draw):
    return draw.text(ALPHABET, 80)


def mutated(draw, seeds=None):
    """A right formula with characters deleted, inserted, replaced, duplicated or reversed."""
    text = draw.choice(seeds or NOTATION)
    for _ in range(draw.integer(1, 3)):
        kind = draw.choice(["delete", "insert", "replace", "duplicate", "reverse"])
        i = draw.integer(0, len(text))
        j = draw.integer(i, min(len(text), i + 12))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw.choice(TOKENS) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw.choice(TOKENS) + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + text[i:j][::-1] + text[j:]
    return text


FAMILIES = {f.__name__: f for f in (exp_tower, nested_sums, grad_powers, stray_symbols, huge_literals, deep_nesting,
                                    long_products, control_characters, not_finite, notation, token_soup, random_text,
                                    mutated)}


def network(draw):
    return Network.parse(*draw.choice(NETWORKS))


def fuzzed(draw):
    """(family name, formula, network) for one fuzzed input."""
    name = draw.choice(sorted(FAMILIES))
    return name, FAMILIES[name](draw), network(draw)
