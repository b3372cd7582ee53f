r"""verify: a corpus of hand-written formulas with the verdict, diagnosis or error each must get.

Each case is (id, formula, network, expectation): ``EQ`` equivalent; ``("ne", code)`` not
equivalent with that diagnosis code among the findings; ``("err", words)`` a FormulaError (exit
2) whose message contains ``words``.  Networks: the lectures' 1-1-1-1 sigmoid quadratic
(``ONE``), 3-4-2 sigmoid (``MULTI``), 2-3-3-2 tanh with ½ quadratic (``DEEP``), 3-4-2 relu/sigmoid
with cross-entropy (``RELU_CE``).
"""

import pytest

from symbackprop.errors import FormulaError
from symbackprop.spec import Network
from symbackprop.verifier import verify

ONE = ("1,1,1,1", None, None)
MULTI = ("3,4,2", None, None)
DEEP = ("2,3,3,2", "tanh", "half_quadratic")
RELU_CE = ("3,4,2", "relu,sigmoid", "cross_entropy")
SOFT = ("2,2,2", "softplus,identity", None)
EQ = "eq"
NE = ("ne", None)
"""Not equivalent, whatever the diagnosis says."""


def ne(code):
    return ("ne", code)


def err(words):
    return ("err", words)


W_L = r"\frac{\partial C_0}{\partial w^{(L)}}"
W_JK = r"\frac{\partial C_0}{\partial w^{(L)}_{jk}}"
A_K = r"\frac{\partial C_0}{\partial a^{(L-1)}_k}"
B_J = r"\frac{\partial C_0}{\partial b^{(L)}_j}"

CASES = [
    # --- equivalent rewritings: the lectures' one-neuron chain ----------------------------------
    ("lecture-weight", W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("factor-order", W_L + r" = 2(a^{(L)} - y) \sigma'(z^{(L)}) a^{(L-1)}", ONE, EQ),
    ("cdot-times", W_L + r" = a^{(L-1)} \cdot \sigma'(z^{(L)}) \times 2(a^{(L)} - y)", ONE, EQ),
    ("expanded-2", W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) (2a^{(L)} - 2y)", ONE, EQ),
    ("minus-inside", W_L + r" = -2 a^{(L-1)} \sigma'(z^{(L)}) (y - a^{(L)})", ONE, EQ),
    ("sigmoid-as-s(1-s)", W_L + r" = a^{(L-1)} \sigma(z^{(L)})(1 - \sigma(z^{(L)})) 2(a^{(L)} - y)", ONE, EQ),
    ("sigmoid-as-a(1-a)", W_L + r" = a^{(L-1)} a^{(L)}(1 - a^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("sigmoid-exp", W_L + r" = a^{(L-1)} \frac{e^{-z^{(L)}}}{(1 + e^{-z^{(L)}})^2} 2(a^{(L)} - y)", ONE, EQ),
    ("sigmoid-exp-cmd", W_L + r" = a^{(L-1)} \frac{\exp(-z^{(L)})}{\left(1 + \exp(-z^{(L)})\right)^{2}} 2(a^{(L)} - y)",
     ONE, EQ),
    ("prime-cmd", W_L + r" = a^{(L-1)} \sigma^{\prime}(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("left-right", W_L + r" = a^{(L-1)} \sigma'\left(z^{(L)}\right) 2\left(a^{(L)} - y\right)", ONE, EQ),
    ("partials-chain", W_L + r" = \frac{\partial z^{(L)}}{\partial w^{(L)}} \frac{\partial a^{(L)}}{\partial z^{(L)}}"
     r" \frac{\partial C_0}{\partial a^{(L)}}", ONE, EQ),
    ("chain-of-equalities", W_L + r" = \frac{\partial z^{(L)}}{\partial w^{(L)}} \frac{\partial a^{(L)}}{\partial z^{(L)}}"
     r" \frac{\partial C_0}{\partial a^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("numbered-layers", r"\frac{\partial C_0}{\partial w^{(3)}} = a^{(2)} \sigma'(z^{(3)}) 2(a^{(3)} - y)", ONE, EQ),
    ("no-parentheses", r"\frac{\partial C_0}{\partial w^L} = a^{L-1} \sigma'(z^L) 2(a^L - y)", ONE, EQ),
    ("bare-C", r"\frac{\partial C}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("dollars", r"$\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)$", ONE, EQ),
    ("bias", r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("prev-activation", r"\frac{\partial C_0}{\partial a^{(L-1)}} = w^{(L)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("two-layers-back", r"\frac{\partial C_0}{\partial w^{(L-1)}} = a^{(L-2)} \sigma'(z^{(L-1)}) w^{(L)}"
     r" \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("recursive-partial", r"\frac{\partial C_0}{\partial w^{(L-1)}} = a^{(L-2)} \sigma'(z^{(L-1)})"
     r" \frac{\partial C_0}{\partial a^{(L-1)}}", ONE, EQ),
    ("generic-l-chain", r"\frac{\partial C_0}{\partial b^{(l)}} = \sigma'(z^{(l)}) \frac{\partial C_0}{\partial a^{(l)}}",
     ONE, EQ),
    ("input-x", r"\frac{\partial C_0}{\partial w^{(1)}} = x \sigma'(z^{(1)}) \frac{\partial C_0}{\partial a^{(1)}}", ONE, EQ),
    ("local-dz-dw", r"\frac{\partial z^{(L)}}{\partial w^{(L)}} = a^{(L-1)}", ONE, EQ),
    ("local-dz-db", r"\frac{\partial z^{(L)}}{\partial b^{(L)}} = 1", ONE, EQ),
    ("local-da-dz", r"\frac{\partial a^{(L)}}{\partial z^{(L)}} = \sigma'(z^{(L)})", ONE, EQ),
    ("frac12-digits", r"\frac{\partial C_0}{\partial a^{(L)}} = \frac12 \cdot 4 (a^{(L)} - y)", ONE, EQ),
    ("slash", r"\partial C_0 / \partial a^{(L)} = 2(a^{(L)} - y)", ONE, EQ),
    # --- equivalent rewritings: indices, sums, Nielsen -----------------------------------------
    ("index-weight", W_JK + r" = a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, EQ),
    ("index-comma", r"\frac{\partial C_0}{\partial w^{(L)}_{j,k}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)",
     MULTI, EQ),
    ("sub-before-sup", r"\frac{\partial C_0}{\partial w_{jk}^{(L)}} = a_k^{(L-1)} \sigma'(z_j^{(L)}) 2(a_j^{(L)} - y_j)",
     MULTI, EQ),
    ("digits-01", r"\frac{\partial C_0}{\partial w^{(2)}_{01}} = a^{(1)}_1 \sigma'(z^{(2)}_0) 2(a^{(2)}_0 - y_0)",
     MULTI, EQ),
    ("other-letters", r"\frac{\partial C_0}{\partial w^{(L)}_{pq}} = a^{(L-1)}_q \sigma'(z^{(L)}_p) 2(a^{(L)}_p - y_p)",
     MULTI, EQ),
    ("bias-index", B_J + r" = \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, EQ),
    ("path-sum", A_K + r" = \sum_j w^{(L)}_{jk} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, EQ),
    ("path-sum-bounds", A_K + r" = \sum_{j=0}^{n_L-1} w^{(L)}_{jk} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, EQ),
    ("path-sum-partials", A_K + r" = \sum_{j} \frac{\partial z^{(L)}_j}{\partial a^{(L-1)}_k}"
     r" \frac{\partial a^{(L)}_j}{\partial z^{(L)}_j} \frac{\partial C_0}{\partial a^{(L)}_j}", MULTI, EQ),
    ("bp1-index", r"\delta^L_j = 2(a^L_j - y_j) \sigma'(z^L_j)", MULTI, EQ),
    ("bp1-partial", r"\delta^{(L)}_j = \frac{\partial C}{\partial a^{(L)}_j} \sigma'(z^{(L)}_j)", MULTI, EQ),
    ("bp2-index", r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)", MULTI, EQ),
    ("bp3-index", r"\frac{\partial C}{\partial b^l_j} = \delta^l_j", MULTI, EQ),
    ("bp4-index", r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j", MULTI, EQ),
    ("bp4-ell", r"\frac{\partial C}{\partial w^{\ell}_{jk}} = a^{\ell-1}_k \delta^{\ell}_j", MULTI, EQ),
    ("bp1-matrix", r"\delta^L = \nabla_a C \odot \sigma'(z^L)", MULTI, EQ),
    ("bp2-matrix", r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)", MULTI, EQ),
    ("bp2-matrix-top", r"\delta^l = \left((w^{l+1})^\top \delta^{l+1}\right) \odot \sigma'(z^l)", MULTI, EQ),
    ("bp3-matrix", r"\frac{\partial C}{\partial b^l} = \delta^l", MULTI, EQ),
    ("bp4-matrix", r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T", MULTI, EQ),
    ("grad-a-matrix", r"\frac{\partial C}{\partial a^{l}} = (w^{l+1})^T \delta^{l+1}", MULTI, EQ),
    ("general-weight", r"\frac{\partial C_0}{\partial w^{(l)}_{jk}} = a^{(l-1)}_k \sigma'(z^{(l)}_j)"
     r" \frac{\partial C_0}{\partial a^{(l)}_j}", DEEP, EQ),
    ("tanh-1-a2", r"\frac{\partial C_0}{\partial b^{(L)}_j} = (1 - (a^{(L)}_j)^2) (a^{(L)}_j - y_j)", DEEP, EQ),
    ("half-quadratic", r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) (a^{(L)}_j - y_j)",
     DEEP, EQ),
    ("tanh-squared", r"\frac{\partial C_0}{\partial b^{(L)}_j} = (1 - \tanh^2(z^{(L)}_j)) (a^{(L)}_j - y_j)", DEEP, EQ),
    ("sum-limits", A_K + r" = \sum\limits_{j} w^{(L)}_{jk} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, EQ),
    ("matrix-missing-2", r"\delta^{L} = (a^L - y) \odot \sigma'(z^L)", MULTI, ne("constant_factor")),
    ("deep-bp2", r"\delta^{(l)}_j = \sum_{k=0}^{n_{l+1}-1} w^{(l+1)}_{kj} \delta^{(l+1)}_k \sigma'(z^{(l)}_j)", DEEP, EQ),
    ("cross-entropy-delta", r"\delta^{(L)}_j = a^{(L)}_j - y_j", RELU_CE, EQ),
    ("cross-entropy-slope", r"\frac{\partial C_0}{\partial a^{(L)}_j} = \frac{a^{(L)}_j - y_j}{a^{(L)}_j (1 - a^{(L)}_j)}",
     RELU_CE, EQ),
    ("relu-hidden", r"\frac{\partial C_0}{\partial w^{(1)}_{jk}} = a^{(0)}_k \sigma'(z^{(1)}_j)"
     r" \sum_i w^{(2)}_{ij} (a^{(2)}_i - y_i)", RELU_CE, EQ),
    ("softplus-slope", r"\frac{\partial a^{(1)}_j}{\partial z^{(1)}_j} = \frac{1}{1 + e^{-z^{(1)}_j}}", SOFT, EQ),
    ("identity-output", r"\delta^{(L)}_j = 2(a^{(L)}_j - y_j)", SOFT, EQ),
    ("log-cost", r"\frac{\partial C}{\partial a^{(L)}_j} = -\frac{y_j}{a^{(L)}_j} + \frac{1 - y_j}{1 - a^{(L)}_j}",
     RELU_CE, EQ),
    ("two-layers-sum", r"\frac{\partial C_0}{\partial w^{(L-1)}_{jk}} = a^{(L-2)}_k \sigma'(z^{(L-1)}_j) \sum_i w^{(L)}_{ij}"
     r" \sigma'(z^{(L)}_i) 2(a^{(L)}_i - y_i)", MULTI, EQ),
    ("sum-swallows-factors", r"\frac{\partial C_0}{\partial w^{(L-1)}_{jk}} = \sum_i a^{(L-2)}_k \sigma'(z^{(L-1)}_j)"
     r" w^{(L)}_{ij} \sigma'(z^{(L)}_i) 2(a^{(L)}_i - y_i)", MULTI, EQ),
    ("nested-sums", r"\frac{\partial C_0}{\partial a^{(L-2)}_k} = \sum_i \sum_j w^{(L-1)}_{ik} \sigma'(z^{(L-1)}_i)"
     r" w^{(L)}_{ji} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", DEEP[:1] + (None, None), EQ),
    # --- mistakes --------------------------------------------------------------------------------
    ("missing-2", W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) (a^{(L)} - y)", ONE, ne("constant_factor")),
    ("stray-half", W_L + r" = \frac{1}{2} a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, ne("constant_factor")),
    ("extra-2-half-quadratic", r"\frac{\partial C_0}{\partial b^{(L)}_j} = \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", DEEP,
     ne("constant_factor")),
    ("flipped-sign", W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) 2(y - a^{(L)})", ONE, ne("flipped_sign")),
    ("missing-input-activation", W_L + r" = \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, ne("missing_factor")),
    ("missing-sigma-prime", W_L + r" = a^{(L-1)} 2(a^{(L)} - y)", ONE, ne("missing_factor")),
    ("missing-cost-slope", W_L + r" = a^{(L-1)} \sigma'(z^{(L)})", ONE, ne("missing_factor")),
    ("missing-weight-deeper", r"\frac{\partial C_0}{\partial w^{(L-1)}} = a^{(L-2)} \sigma'(z^{(L-1)})"
     r" \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, ne("missing_factor")),
    ("extra-weight", W_L + r" = w^{(L)} a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, ne("extra_factor")),
    ("missing-index-factor", W_JK + r" = \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, ne("missing_factor")),
    ("sigma-for-sigma-prime", W_L + r" = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)", ONE, ne("sigma_for_sigma_prime")),
    ("sigma-for-sigma-prime-index", B_J + r" = \sigma(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, ne("sigma_for_sigma_prime")),
    ("swapped-w-bp2", r"\delta^l_j = \sum_k w^{l+1}_{jk} \delta^{l+1}_k \sigma'(z^l_j)", MULTI, ne("swapped_indices")),
    ("swapped-w-paths", A_K + r" = \sum_j w^{(L)}_{kj} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI,
     ne("swapped_indices")),
    ("a-j-for-a-k", W_JK + r" = a^{(L-1)}_j \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, ne("wrong_index")),
    ("z-k-for-z-j", W_JK + r" = a^{(L-1)}_k \sigma'(z^{(L)}_k) 2(a^{(L)}_j - y_j)", MULTI, ne("wrong_index")),
    ("swapped-throughout", r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_j \delta^l_k", MULTI, ne("swapped_indices")),
    ("wrong-layer", W_L + r" = a^{(L)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, ne("wrong_layer")),
    ("wrong-layer-index", r"\frac{\partial C}{\partial w^{l}_{jk}} = a^{l}_k \delta^{l}_j", MULTI, ne("wrong_layer")),
    ("wrong-layer-sigma", W_L + r" = a^{(L-1)} \sigma'(z^{(L-1)}) 2(a^{(L)} - y)", ONE, ne("wrong_layer")),
    ("missing-sum", A_K + r" = w^{(L)}_{jk} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI, ne("missing_sum")),
    ("missing-sum-bp2", r"\delta^l_j = w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)", MULTI, ne("missing_sum")),
    ("missing-transpose", r"\delta^l = (w^{l+1} \delta^{l+1}) \odot \sigma'(z^l)", MULTI, ne("missing_transpose")),
    ("missing-transpose-square", r"\delta^l = (w^{l+1} \delta^{l+1}) \odot \sigma'(z^l)", DEEP, ne("missing_transpose")),
    ("missing-transpose-bp4", r"\frac{\partial C}{\partial w^l} = \delta^l a^{l-1}", MULTI, ne("missing_transpose")),
    ("wrong-order-bp4", r"\frac{\partial C}{\partial w^L} = (a^{L-1})^T (a^L - y)", ("3,4,2", None, "cross_entropy"),
     ne("wrong_order")),
    ("shape-shorthand-on-multi", W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", MULTI, ne("shape_mismatch")),
    ("chain-part-wrong", B_J + r" = \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j) = \frac{\partial a^{(L)}_j}{\partial z^{(L)}_j}",
     MULTI, ne("chain_part")),
    ("two-mistakes-sigma-and-sign", W_JK + r" = a^{(L-1)}_k \sigma(z^{(L)}_j) 2(y_j - a^{(L)}_j)", MULTI,
     ne("flipped_sign")),
    ("two-mistakes-index-and-2", W_JK + r" = a^{(L-1)}_j \sigma'(z^{(L)}_j) (a^{(L)}_j - y_j)", MULTI,
     ne("wrong_index")),
    ("unexplained", W_L + r" = 7 + a^{(L)}", ONE, ne("unexplained")),
    ("output-layer-only", r"\frac{\partial C}{\partial b^l_j} = \sigma'(z^l_j) 2(a^l_j - y_j)", ("2,3,3,2", None, None),
     ne("only_some_layers")),
    ("cost-not-its-slope", B_J + r" = (a^{(L)}_j - y_j)^2", MULTI, ne("cost_for_slope")),
    ("division-by-zero", B_J + r" = \frac{1}{0}", MULTI, err("division by zero")),
    # --- bad input ---------------------------------------------------------------------------------
    ("empty", "", ONE, err("empty formula")),
    ("blank", "   ", ONE, err("empty formula")),
    ("only-dollars", "$$", ONE, err("empty")),
    ("unparsable-paren", W_L + r" = a^{(L-1)} (\sigma'(z^{(L)})", ONE, err("ends too early")),
    ("unparsable-extra", W_L + r" = a^{(L-1)} )", ONE, err("column")),
    ("unknown-symbol", W_L + r" = f(a^{(L)})", ONE, err("unknown symbol 'f'")),
    ("unknown-d", r"\frac{dC}{dw} = 1", ONE, err(r"write \partial")),
    ("unknown-command", W_L + r" = \alpha a^{(L)}", ONE, err(r"unknown command \alpha")),
    ("tex-input", r"\input{/etc/passwd}", ONE, err("not math")),
    ("tex-def", r"\def\x{1} \frac{\partial C}{\partial w} = \x", ONE, err("not math")),
    ("tex-write", r"\immediate\write18{rm -rf /}", ONE, err("not math")),
    ("python-code", "import os; os.system('ls')", ONE, err("looks like program code")),
    ("python-power", "dC/dw = a**2", ONE, err("looks like program code")),
    ("not-equation", r"a^{(L-1)} \sigma'(z^{(L)})", ONE, err("not an equation")),
    ("lhs-not-derivative", r"a^{(L)} = \sigma(z^{(L)})", ONE, err("must be a derivative")),
    ("layer-out-of-range", r"\frac{\partial C_0}{\partial w^{(7)}} = 1", ONE, err("out of range")),
    ("layer-zero-weight", r"\frac{\partial C_0}{\partial w^{(L-3)}} = 1", ONE, err("w^{(1)} .. w^{(3)}")),
    ("neuron-out-of-range", r"\frac{\partial C_0}{\partial b^{(L)}_5} = 1", MULTI, err("neurons 0..1")),
    ("sum-past-last", A_K + r" = \sum_{j=0}^{n_L} w^{(L)}_{jk} \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)", MULTI,
     err("out of range")),
    ("huge-sum", A_K + r" = \sum_{j=0}^{99999999999} w^{(L)}_{jk}", MULTI, err("too costly")),
    ("too-costly", B_J + r" = \sum_i \sum_k \sum_m a^{(1)}_i a^{(1)}_k a^{(1)}_m", ("784,256,10", None, None),
     err("too costly")),
    ("sum-over-examples", r"\frac{\partial C}{\partial w^{(L)}_{jk}} = \frac{1}{n} \sum_x \frac{\partial C_x}{\partial w^{(L)}_{jk}}",
     MULTI, EQ),
    ("huge-power", B_J + r" = 2^{2^{2^{2^{2}}}}", MULTI, err("too large")),
    ("index-as-value", W_JK + " = j", MULTI, err("neuron index")),
    ("layer-as-value", W_JK + " = L", MULTI, err("layer number")),
    ("cost-as-value", W_JK + " = C", MULTI, err("cost C")),
    ("d-by-y", r"\frac{\partial C}{\partial y} = 1", ONE, err("desired output")),
    ("unicode", r"\frac{\partial C}{\partial b} = σ'(z)", ONE, err(r"write \sigma")),
    ("three-indices", r"\frac{\partial C}{\partial w^{(L)}_{jkm}} = 1", MULTI, err("two neuron indices")),
    ("a-two-indices", r"\frac{\partial C}{\partial a^{(L)}_{jk}} = 1", MULTI, err("one neuron index")),
    ("too-long", W_L + " = " + "+".join(["a^{(L)}"] * 400), ONE, err("limit")),
    ("deep-nesting", W_L + " = " + "(" * 60 + "a" + ")" * 60, ONE, err("nested")),
    ("lone-partial", W_L + r" = \partial a^{(L)}", ONE, err(r"\partial only")),
]

LECTURE = W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"
BIAS = r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)"
CHAIN_OF_SUMS = (r"\frac{\partial C_0}{\partial a^{(L-1)}_k} = \sum_{i} w^{(L)}_{ik} \sum_{j} w^{(L)}_{jk} \sum_{k} w^{(L)}_{kj}"
                 r" \sum_{i} a^{(L)}_i \sum_{j} a^{(L)}_j")

# Issue 10: what students type, read correctly (or refused with what to write instead) ----------
READING = [
    ("mathrm-d", r"\frac{\mathrm{d} C_0}{\mathrm{d} w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("mathrm-T", r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^{\mathrm{T}}", MULTI, EQ),
    ("sigma-prime-quote-in-braces", W_L + r" = a^{(L-1)} \sigma^{'}(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("sigma-prime-quote-bare", W_L + r" = a^{(L-1)} \sigma^\prime(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("trailing-full-stop", LECTURE + ".", ONE, EQ),
    ("trailing-thin-space-stop", LECTURE + r"\,.", ONE, EQ),
    ("trailing-comma", LECTURE + " ,", ONE, EQ),
    ("mathbf", r"\frac{\partial C}{\partial \mathbf{w}^l} = \boldsymbol{\delta}^l (\mathbf{a}^{l-1})^T", MULTI, EQ),
    ("boldsymbol-bp2", r"\boldsymbol{\delta}^l = ((\mathbf{w}^{l+1})^T \boldsymbol\delta^{l+1}) \odot \sigma'(\mathbf{z}^l)",
     MULTI, EQ),
    ("over", r"{\partial C_0 \over \partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE, EQ),
    ("over-outside-braces", r"\partial C_0 \over \partial w^{(L)} = a^{(L-1)}", ONE, err(r"\over is read inside braces")),
    ("operator-on-expression", r"\frac{\partial C_0}{\partial a^{(L)}} = \frac{\partial}{\partial a^{(L)}}(a^{(L)}-y)^2",
     ONE, EQ),
    ("partial-of-expression", r"\frac{\partial C_0}{\partial a} = \frac{\partial (a-y)^2}{\partial a}", ONE, EQ),
    ("operator-on-a-sum", r"\frac{\partial C_0}{\partial a^{(L)}_j} = \frac{\partial}{\partial a^{(L)}_j} \sum_k "
     r"(a^{(L)}_k - y_k)^2", MULTI, EQ),
    ("partial-of-sigma", r"\frac{\partial a^{(L)}}{\partial z^{(L)}} = \frac{\partial \sigma(z^{(L)})}{\partial z^{(L)}}",
     ONE, EQ),
    ("operator-half-cost", r"\frac{\partial C_0}{\partial a^{(L)}_j} = \frac{\partial}{\partial a^{(L)}_j} \frac{1}{2}"
     r"(a^{(L)}_j - y_j)^2", DEEP, EQ),
    ("operator-needs-chain-rule", W_L + r" = \frac{\partial}{\partial w^{(L)}} (a^{(L)} - y)^2", ONE,
     err("depends on w^{(L)} through the network")),
    ("operator-on-the-left", r"\frac{\partial (a-y)^2}{\partial a} = 2(a - y)", ONE,
     err("left-hand side must be a derivative of the cost")),
    ("operator-alone", r"\frac{\partial C_0}{\partial a^{(L)}} = \frac{\partial}{\partial a^{(L)}}", ONE,
     err("must be followed by what it differentiates")),
    ("second-derivative", r"\frac{\partial C_0}{\partial z^{(L)}} = \frac{\partial}{\partial z^{(L)}} \sigma'(z^{(L)})",
     ONE, err("second derivative")),
    ("operator-of-the-cost", W_L + r" = \frac{\partial}{\partial w^{(L)}} C_0", ONE, err(r"\frac{\partial C_0}")),
    ("equation-environment", r"\begin{equation}" + LECTURE + r"\end{equation}", ONE, EQ),
    ("equation-star-and-label", r"\begin{equation*} \label{eq:bias} " + BIAS + r" \end{equation*}", ONE, EQ),
    ("align-environment", r"\begin{align*}" + W_L + r" &= a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y) \\ &= 2 a^{(L-1)}"
     r" \sigma'(z^{(L)}) (a^{(L)} - y).\end{align*}", ONE, EQ),
    ("align-continued-line", r"\begin{align}\frac{\partial C_0}{\partial a^{(L-1)}} &= w^{(L)} \sigma'(z^{(L)}) \\"
     r" &\quad \cdot 2(a^{(L)} - y)\end{align}", ONE, EQ),
    ("align-two-equations", r"\begin{align}\delta^L &= \nabla_a C \odot \sigma'(z^L) \\ \delta^l &= ((w^{l+1})^T "
     r"\delta^{l+1}) \odot \sigma'(z^l)\end{align}", MULTI, err("one equation at a time")),
    ("not-a-math-environment", r"\begin{tabular}{c} a \end{tabular}", ONE, err("not a math environment")),
    ("unmatched-environment", r"\begin{equation}" + LECTURE + r"\end{align}", ONE, err(r"no matching \end{equation}")),
    ("average-over-examples", r"\frac{\partial C}{\partial w^{(L)}} = \frac{1}{n}\sum_x \frac{\partial C_x}{\partial w^{(L)}}",
     ONE, EQ),
    ("average-with-bounds", r"\frac{\partial C}{\partial w^{(L)}_{jk}} = \frac{1}{n}\sum_{x=1}^{n} a^{(L-1)}_k "
     r"\delta^{(L)}_j", MULTI, EQ),
    ("sum-over-examples-not-averaged", r"\frac{\partial C}{\partial w^{(L)}} = \sum_x \frac{\partial C_x}{\partial w^{(L)}}",
     ONE, ne("constant_factor")),
    ("examples-wrong-bounds", r"\frac{\partial C}{\partial w^{(L)}} = \frac{1}{n}\sum_{x=1}^{n-1} "
     r"\frac{\partial C_x}{\partial w^{(L)}}", ONE, err("runs over all n of them")),
    ("nielsen-sigma-prime-matrix", r"\delta^L = \Sigma'(z^L) \nabla_a C", MULTI, EQ),
    ("nielsen-sigma-prime-one-neuron", r"\delta^L = \Sigma'(z^L) \nabla_a C", ONE, EQ),
    ("nielsen-bp2-diagonal", r"\delta^l = \Sigma'(z^l) (w^{l+1})^T \delta^{l+1}", MULTI, EQ),
    ("diag", r"\delta^L = \operatorname{diag}(\sigma'(z^L)) \nabla_a C", MULTI, EQ),
    ("diag-wrong-order", r"\delta^L = \nabla_a C \operatorname{diag}(\sigma'(z^L))", MULTI, NE),
    ("capital-sigma-as-sum", A_K + r" = \Sigma_j w^{(L)}_{jk} \delta^{(L)}_j", MULTI, err(r"a sum is \sum_j")),
    ("nabla-b", r"\nabla_b C = \delta", MULTI, EQ),
    ("nabla-w", r"\nabla_w C = \delta (a^{L-1})^T", MULTI, EQ),
    ("nabla-b-layer", r"\nabla_{b^l} C = \delta^l", MULTI, EQ),
    ("nabla-y", r"\nabla_y C = 1", MULTI, err(r"\nabla is taken with respect to a, z, w or b")),
    ("thick-space", W_L + r" = a^{(L-1)}\; \sigma'(z^{(L)}) \; 2(a^{(L)} - y)", ONE, EQ),
    ("negative-space-and-displaystyle", r"\displaystyle " + W_L + r" = a^{(L-1)} \! \sigma'(z^{(L)}) \big( 2(a^{(L)} - y)"
     r"\big)", ONE, EQ),
    ("intercal", r"\dfrac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^\intercal", MULTI, EQ),
    ("circ", r"\delta^L = \nabla_a C \circ \sigma'(z^L)", MULTI, EQ),
    ("font-word-unknown", W_L + r" = \mathrm{x}", ONE, err(r"is not understood here; verify reads")),
    ("doubled-backslashes", r"\\frac{\\partial C_0}{\\partial b^{(L)}} = 1", ONE, err("write one backslash")),
    ("unknown-command-lists-circ", W_L + r" = \alpha", ONE, err(r"\circ")),
    # bounded time, no crash: a verdict or one clear line ------------------------------------
    ("exp-tower", BIAS.split("=")[0] + r"= \exp(\exp(\exp(100)))", ONE, err("not a finite real number")),
    ("exp-tower-as-factor", W_L + r" = a^{(L-1)} \exp(\exp(\exp(100))) \sigma'(z^{(L)})", ONE,
     err("beyond 10^308")),
    ("e-tower", W_L + r" = e^{e^{e^{1000}}}", ONE, err("e^{1000} is beyond 10^308")),
    ("ln-of-minus-one", W_L + r" = \ln(-1)", ONE, err("logarithm of a number ≤ 0")),
    ("one-over-a-difference", W_L + r" = \frac{1}{a^{(L)} - a^{(L)}}", ONE, err("division by zero")),
    ("ln-negative-at-the-points", W_L + r" = \ln(a^{(L)} - 5)", ONE, err("at the sample points")),
    ("power-of-negative", W_L + r" = (-8)^{1/3}", ONE, err("fractional power of a negative number")),
    ("huge-integer-power", W_L + r" = (10^{20})^{20}", ONE, err("beyond 10^308")),
    ("huge-literal", W_L + " = " + "9" * 1500, ONE, err("at most 30 digits")),
    ("huge-literal-in-a-bound", A_K + r" = \sum_{j=0}^{" + "9" * 400 + "} w^{(L)}_{jk}", MULTI, err("at most 30 digits")),
    ("chain-of-sums", CHAIN_OF_SUMS, MULTI, NE),
    ("eight-sums", A_K + r" = " + r" \sum_j a^{(L)}_j" * 7 + r" \sum_j w^{(L)}_{jk}", MULTI, NE),
    ("nine-sums", A_K + r" = " + r" \sum_j a^{(L)}_j" * 8 + r" \sum_j w^{(L)}_{jk}", MULTI, err("at most 8")),
    ("power-of-nabla-one-neuron", r"\delta^L = (\nabla_a C)^2 \sigma'(z^L)", ONE, NE),
    ("power-of-nabla-vector", r"\delta^L = (\nabla_a C)^2 \odot \sigma'(z^L)", MULTI, err("power of a vector")),
    ("cost-x-as-value", W_JK + " = C_x", MULTI, err("cost C")),
    ("index-i-as-value", W_JK + " = i", MULTI, err("neuron index")),
    ("index-i-in-an-exponent", W_JK + " = 2^{i}", MULTI, err("exponent is not understood")),
    ("cost-in-an-exponent", W_JK + " = e^{C}", MULTI, err("cost C")),
    ("long-product", W_L + " = " + " ".join(["a^{(L)}"] * 200), ONE, NE),
    ("long-cdot-product", W_L + " = " + r" \cdot ".join(["a^{(L-1)}"] * 100), ONE, NE),
    ("long-sum", W_L + " = " + " + ".join(["a^{(L)}"] * 190), ONE, NE),
    ("deep-functions", W_L + " = " + r"\sigma " * 100 + "z^{(L)}", ONE, err("nested")),
    ("double-superscript", W_L + r" = (a^{(L)})^2^3", ONE, err("double superscript")),
    ("bell-character", LECTURE[:45] + "\x07" + LECTURE[45:], ONE, err("control character (U+0007)")),
    ("escape-character", LECTURE + "\x1b[31m", ONE, err("U+001B")),
    ("zero-width-space", LECTURE + "\u200b", ONE, err("U+200B")),
]
CASES += READING


def _net(spec):
    return Network.parse(*spec)


@pytest.mark.parametrize("formula,net,expectation", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_corpus(formula, net, expectation):
    network = _net(net)
    if expectation == EQ:
        result = verify(formula, network)
        assert result.equivalent, result.text()
        assert result.to_dict()["verdict"] == "equivalent"
        return
    kind, what = expectation
    if kind == "ne":
        result = verify(formula, network)
        assert not result.equivalent, result.text()
        codes = [d["code"] for d in result.diagnosis]
        assert what is None or what in codes, result.text()
        assert result.counterexample is not None
        data = result.to_dict()
        assert data["verdict"] == "not_equivalent" and data["diagnosis"] and data["counterexample"]
        assert all(set(d) == {"code", "message"} for d in data["diagnosis"])
    else:
        with pytest.raises(FormulaError) as info:
            verify(formula, network)
        message = str(info.value)
        assert what in message, message
        assert "\n" not in message


def test_corpus_is_large_and_ids_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) >= 80
    assert len(ids) == len(set(ids))
    kinds = {c[3] if c[3] == EQ else c[3][0] for c in CASES}
    assert kinds == {EQ, "ne", "err"}


def test_position_points_at_the_problem():
    formula = W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) f"
    with pytest.raises(FormulaError) as info:
        verify(formula)
    assert info.value.position == formula.index(" f") + 1
    assert f"column {formula.index(' f') + 2}" in str(info.value)
    assert info.value.context().splitlines()[1].index("^") == info.value.position + 2


def test_unknown_symbol_lists_the_known_ones():
    with pytest.raises(FormulaError) as info:
        verify(W_L + " = g")
    assert "known:" in str(info.value) and r"\sigma" in str(info.value)
