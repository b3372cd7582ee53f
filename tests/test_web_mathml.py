"""web.mathml: the project's LaTeX typeset as MathML on the server, and never a way to inject HTML."""

import xml.etree.ElementTree as ET

import pytest

from symbackprop.web.mathml import mathml, display

PROJECT_LATEX = {
    "chain": r"\frac{\partial C_{0}}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) \cdot 2 \left(a^{(L)} - y\right)",
    "matrix": r"\nabla C = \begin{bmatrix} \displaystyle \frac{\partial C}{\partial w^{(1)}} \rule[-2.2ex]{0pt}{6ex} \\ b \end{bmatrix}",
    "hadamard": r"\delta^{(L)} = \nabla_a C \odot \sigma'(z^{(L)})",
    "sum": r"\frac{\partial C_{0}}{\partial a^{(L-1)}_{k}} = \sum_{j=0}^{n_{L} - 1} w^{(L)}_{jk} \sigma'(z^{(L)}_{j})",
    "transpose": r"\delta^{(l)} = \left(\left(w^{(l+1)}\right)^{T} \delta^{(l+1)}\right) \odot \sigma'(z^{(l)})",
    "aligned": "\\begin{aligned}\n  z^{(L)} &= w^{(L)} a^{(L-1)} + b^{(L)} \\\\[1ex]\n  a^{(L)} &= \\sigma(z^{(L)})\n\\end{aligned}",
}


@pytest.mark.parametrize("latex", PROJECT_LATEX.values(), ids=PROJECT_LATEX)
def test_project_latex_becomes_mathml(latex):
    markup = str(display(latex))
    root = ET.fromstring(markup)
    assert root.tag == "{http://www.w3.org/1998/Math/MathML}math" and root.get("display") == "block"
    assert "\\" not in "".join(root.itertext())  # no command left over as text


def test_symbols_come_out_as_unicode():
    text = "".join(ET.fromstring(str(mathml(PROJECT_LATEX["hadamard"]))).itertext())
    for symbol in ("δ", "∇", "⊙", "σ", "′"):
        assert symbol in text


@pytest.mark.parametrize("latex", [
    r"\text{<img src=x onerror=alert(1)>}",
    r'\text{<img src="x" onerror="alert(1)"/>}',
    r'\text{<script>alert(1)</script>}',
    r"\href{javascript:alert(1)}{x}",
], ids=["img-unquoted", "img-xml", "script-in-text", "href"])
def test_html_in_latex_never_becomes_markup(latex):
    markup = str(mathml(latex))
    assert "<img" not in markup and "<script" not in markup and "href=" not in markup


def test_unconvertible_latex_falls_back_to_escaped_source():
    markup = str(mathml(r"\left( <b>"))  # unbalanced: latex2mathml gives up
    assert markup.startswith('<code class="tex">') and "&lt;b&gt;" in markup


def test_plain_text_is_escaped_inside_mathml():
    markup = str(mathml("<script>alert(1)</script>"))
    assert markup.startswith("<math") and "<script" not in markup and "&lt;" in markup
