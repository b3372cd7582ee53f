"""Study notes: content, LaTeX = Markdown, templates free of formulas, the CLI, TeX missing.

The PDF builds are in test_notes_pdf.py (marked slow).
"""

import os
import re
import shlex
import subprocess
import sys
import xml.dom.minidom
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from symbackprop import notation, printing
from symbackprop.errors import SymbackpropError
from symbackprop.render import notes, pdf, render_notes, write_notes
from symbackprop.spec import Network

NETWORKS = {
    "lectures-chain": ("1,1,1,1", None, None),
    "lectures-multi": ("3,3,2", None, None),
    "depth1": ("2,1", "identity", "half_quadratic"),
    "per-layer": ("4,4,4,2", "relu,tanh,sigmoid", "cross_entropy"),
    "wide": ("10,10,10", "softplus", "quadratic"),
    "deep": ("1,1,1,1,1,1,1", "tanh", "half_quadratic"),
    "huge-input": ("784,16,10", "relu,sigmoid", "cross_entropy"),
}

SECTIONS = ["The one-neuron chain", "The computation tree", "The chain rule for a weight", "The bias",
            "Propagating back", "Many training examples and the gradient", "Several neurons per layer",
            "The error and the four equations", "This network's activation", "A worked example",
            "What the numbers show", "These notes and Nielsen's book", "Exercises", "Answers"]


@pytest.fixture(scope="module", params=list(NETWORKS), ids=list(NETWORKS))
def rendered(request):
    net = Network.parse(*NETWORKS[request.param])
    ctx = notes.context(net)
    return net, ctx, notes.render_notes(net, "latex", ctx), notes.render_notes(net, "markdown", ctx)


def _tex_math(tex):
    """Inline and display math of the LaTeX notes, outside TikZ pictures, in order."""
    body = re.sub(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", "", tex, flags=re.S)
    body = body[body.index(r"\begin{document}"):]
    displays = re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", body, flags=re.S)
    body = re.sub(r"\\begin\{align\*\}.*?\\end\{align\*\}", "", body, flags=re.S)
    return displays, re.findall(r"\$([^$]+)\$", body)


def _md_math(md):
    displays = re.findall(r"\$\$\n\\begin\{aligned\}\n(.*?)\n\\end\{aligned\}\n\$\$", md, flags=re.S)
    body = re.sub(r"\$\$.*?\$\$", "", md, flags=re.S)
    return displays, re.findall(r"\$([^$]+)\$", body)


def test_latex_and_markdown_hold_the_same_formulas(rendered):
    _, _, tex, md = rendered
    tex_displays, tex_inline = _tex_math(tex)
    md_displays, md_inline = _md_math(md)
    assert len(tex_displays) > 30
    assert tex_displays == md_displays
    assert Counter(tex_inline) == Counter(md_inline)


def test_every_derived_formula_is_in_both(rendered):
    net, ctx, tex, md = rendered
    d = ctx["d"]
    tex_displays, _ = _tex_math(tex)
    md_displays, _ = _md_math(md)
    wanted = [printing.latex(s.rhs) for s in d.chain.steps]
    wanted += [printing.latex(x.rhs) for x in d.chain.definitions[:2] + d.definitions[:2]]
    wanted += [printing.latex(ctx["costs"]["chain"]), printing.latex(ctx["costs"]["indexed"])]
    wanted += [printing.latex(d.weight.rhs), printing.latex(d.paths.rhs), printing.latex(d.delta.rhs),
               printing.latex(d.cost_slope), printing.latex(d.output_error_indexed)]
    wanted += [printing.latex(e.index_rhs) for e in d.bp] + [printing.latex(e.matrix_rhs) for e in d.bp]
    wanted += [printing.latex(step.delta.index_rhs) for step in d.layers]
    wanted += [printing.latex(s.derivative) for s in d.slopes]
    for displays in (tex_displays, md_displays):
        text = "\n".join(displays)
        missing = [w for w in wanted if w not in text]
        assert not missing, missing


def test_sections_in_the_lectures_order(rendered):
    _, _, tex, md = rendered
    for doc in (tex, md):
        positions = [doc.index(title) for title in SECTIONS]
        assert positions == sorted(positions)


def test_the_chain_is_written_out_for_every_layer(rendered):
    net, ctx, tex, _ = rendered
    labels = [printing.latex(layer.label) for layer in ctx["chain"]]
    assert len(labels) == net.depth
    for label in labels if net.depth > 1 else []:
        assert rf"\subsection*{{Layer ${label}$}}" in tex


def test_figures_tikz_in_latex_svg_in_markdown(rendered, tmp_path):
    net, ctx, tex, md = rendered
    panels = sum(len(p.panels) for p in ctx["plots"].values())
    assert tex.count(r"\begin{tikzpicture}") == 3 + panels
    assert tex.count(r"\begin{axis}") == panels
    for name in ("chain", "tree", "paths", *ctx["plots"]):
        assert f"]({ctx['stem']}.{name}.svg)" in md
        svg = notes.render_svg(ctx["figures"][name]) if name in ctx["figures"] else \
            notes.render_plot_svg(ctx["plots"][name])
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        xml.dom.minidom.parseString(svg)  # well-formed


def test_tree_edges_are_labelled_with_partials(rendered):
    _, ctx, tex, _ = rendered
    top = ctx["chain"][0]
    for factor in top.weight.factors:
        assert f"{{$\\displaystyle {printing.latex(factor.partial)}$}}" in tex
    assert f"{{$\\displaystyle {printing.latex(top.bias.factors[0].partial)}$}}" in tex
    tree = ctx["figures"]["tree"]
    unlabelled = [e for e in tree.edges if e.expr is None]
    assert [e.src.expr for e in unlabelled] == [notation.target]  # only the constant y's arrow


def test_worked_example_checks_against_finite_differences(rendered):
    net, ctx, _, _ = rendered
    numbers = ctx["chain_numbers"]
    assert float(numbers["max_difference"]) < 1e-6
    for step in numbers["steps"]:
        if step.finite_difference is not None:
            assert float(step.product) == pytest.approx(float(step.finite_difference), rel=1e-3, abs=1e-6)
    if ctx["numbers"] is not None:
        assert float(ctx["numbers"]["max_difference"]) < 1e-6


def test_exercises_have_runnable_verify_commands(rendered):
    net, ctx, tex, md = rendered
    assert len(ctx["exercises"]) >= 5
    for ex in [ex for ex in ctx["exercises"] if ex.formula]:
        argv = shlex.split(ex.answer_command.replace("\\\n", " "))
        assert argv[:2] == ["symbackprop", "verify"]
        assert "'" not in argv[-1]  # σ' written as \sigma^{\prime}: the formula sits in single quotes
        expected = printing.latex(ex.answer).replace(r"\sigma'", r"\sigma^{\prime}")
        assert " ".join(argv[-1].split()).endswith(" ".join(expected.split()))
        assert ex.command in tex and ex.command in md and ex.answer_command in md


def test_identifiers_stay_out_of_the_prose():
    """Names like cross_entropy appear only in commands and file names, never in prose or titles."""
    net = Network.parse("2,3,2", "relu,sigmoid", "cross_entropy")
    tex = render_notes(net, "latex")
    body = tex[tex.index(r"\begin{document}"):]
    prose = re.sub(r"\\begin\{lstlisting\}.*?\\end\{lstlisting\}|\\lstinline\[[^]]*\]\|[^|]*\||"
                   r"\\IfFileExists\{[^}]*\}|\\textattachfile\[[^]]*\]\{[^}]*\}|\\nolinkurl\{[^}]*\}", "", body,
                   flags=re.S)
    for name in ("cross_entropy", r"cross\_entropy", "relu", "half_quadratic"):
        assert name not in prose
    assert "cross-entropy" in prose and "ReLU" in prose


def test_templates_hold_no_formulas():
    """The body holds prose and structure: no math, no TeX commands outside Jinja tags."""
    body = (ROOT / "symbackprop" / "templates" / "notes.body.j2").read_text()
    prose = re.sub(r"\(\(\(.*?\)\)\)|\(\(\*.*?\*\)\)|\(\(#.*?#\)\)", "", body, flags=re.S)
    for marker in ("$", "\\", "^", "_{", "\\frac"):
        assert marker not in prose, marker


def test_unknown_target():
    with pytest.raises(SymbackpropError, match="markdown"):
        render_notes(Network.parse(), "html")


def test_write_notes_defaults_to_the_lectures_networks(tmp_path):
    paths = write_notes(None, tmp_path)
    names = sorted(Path(p).name for p in paths)
    for stem in ("notes-1-1-1-1-sigmoid-quadratic", "notes-3-3-2-sigmoid-quadratic"):
        assert f"{stem}.tex" in names and f"{stem}.md" in names and f"{stem}.paths.svg" in names
    assert not any(n.endswith(".pdf") for n in names)


def test_cli_notes_any_network(tmp_path):
    out = tmp_path / "notes"
    result = run_cli("notes", "--sizes", "2,3,2", "--activation", "tanh,sigmoid", "--cost", "cross_entropy",
                     "-o", str(out))
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split()
    assert str(out / "notes-2-3-2-tanh-sigmoid-cross_entropy.tex") in printed
    assert str(out / "notes-2-3-2-tanh-sigmoid-cross_entropy.md") in printed
    tex = (out / "notes-2-3-2-tanh-sigmoid-cross_entropy.tex").read_text()
    assert "tanh, sigmoid" in tex


def test_cli_bad_network_is_exit_2(tmp_path):
    result = run_cli("notes", "--sizes", "2,x", "-o", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "not a whole number" in result.stderr


def test_no_tex_installed_is_exit_2_with_the_install_command(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))
    result = run_cli("notes", "--pdf", "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 2
    assert "pdflatex" in result.stderr and "apt-get install" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_tex_runs_confined(monkeypatch):
    env = pdf.tex_environment()
    assert env["openin_any"] == "p" and env["openout_any"] == "p"
    assert "-no-shell-escape" in pdf.PDFLATEX_FLAGS and "-halt-on-error" in pdf.PDFLATEX_FLAGS
    assert "-interaction=nonstopmode" in pdf.PDFLATEX_FLAGS


def test_first_error_of_a_log():
    log = "This is pdfTeX\n(./a.tex\n./a.tex:12: Undefined control sequence.\nl.12 \\foo\n! Emergency stop.\n"
    assert pdf.first_error(log) == "./a.tex:12: Undefined control sequence."
    assert pdf.first_error("! LaTeX Error: File `x.sty' not found.\n") == "! LaTeX Error: File `x.sty' not found."


@pytest.mark.parametrize("sizes, activation, cost", [NETWORKS["lectures-chain"], NETWORKS["lectures-multi"],
                                                     NETWORKS["per-layer"], NETWORKS["depth1"]])
def test_the_answers_are_what_verify_accepts(sizes, activation, cost):
    verifier = pytest.importorskip("symbackprop.verifier")
    ctx = notes.context(Network.parse(sizes, activation, cost))
    for ex in [ex for ex in ctx["exercises"] if ex.formula]:
        formula = shlex.split(ex.answer_command.replace("\\\n", " "))[-1]
        result = verifier.verify(formula, ex.network)
        assert result.equivalent, (ex.question, formula)


def test_an_answer_command_runs_in_a_real_shell(tmp_path):
    pytest.importorskip("symbackprop.verifier")
    ex = [ex for ex in notes.context(Network.parse("3,3,2"))["exercises"] if ex.formula][3]  # a weight, j and k
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "symbackprop").write_text(f"#!/bin/sh\nexec {sys.executable} -m symbackprop \"$@\"\n")
    (bin_dir / "symbackprop").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = subprocess.run(["bash", "-c", ex.answer_command], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "EQUIVALENT" in result.stdout.upper()


def test_a_deep_network_stays_readable(tmp_path):
    net = Network.parse(",".join(["3"] * 61), "tanh")
    paths = write_notes([net], tmp_path)
    stem = notes.file_stem(net)
    assert len(stem) < 60 and stem.startswith("notes-3-3-L60-")
    tex = (tmp_path / f"{stem}.tex").read_text()
    assert tex.count(r"\subsection*{Layer $") == 60  # every layer's chain rule
    assert tex.count("With the recursion written out") == notes.EXPANDED_LAYERS - 1
    assert r"\vdots" in tex  # the figures and the gradient vector skip the middle layers
    names = sorted(Path(p).name[len(stem):] for p in paths)
    assert names == sorted([".tex", ".md", ".verify.sh", ".chain.svg", ".tree.svg", ".paths.svg",
                            ".activations.svg", ".descent.svg", ".layers.svg"])
