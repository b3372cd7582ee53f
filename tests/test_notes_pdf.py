"""The notes compiled by a real TeX engine (pdflatex through latexmk): slow, run in CI.

The networks cover every activation and cost, depth 1 to 6 and widths up to 10 (and one wide
input layer); they are compiled in parallel in one fixture.
"""

import re
import shutil
import subprocess

import pytest

from conftest import run_cli
from symbackprop.errors import SymbackpropError
from symbackprop.render import notes, pdf, write_notes
from symbackprop.spec import Network

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
                                 reason="needs pdflatex and pdftotext (bash run.sh installs them)")]

NETWORKS = [
    ("1,1,1,1", "sigmoid", "quadratic"),
    ("3,3,2", "sigmoid", "quadratic"),
    ("6,1", "sigmoid", "cross_entropy"),
    ("2,3,1", "tanh", "half_quadratic"),
    ("4,4,4,2", "relu,tanh,sigmoid", "cross_entropy"),
    ("10,10,10", "softplus", "quadratic"),
    ("3,5,5,5,5,2", "identity", "half_quadratic"),
    ("1,1,1,1,1,1,1", "relu,relu,relu,relu,relu,sigmoid", "cross_entropy"),
    ("2,10,10,10,10,10,10", "tanh,relu,softplus,identity,tanh,sigmoid", "quadratic"),
    ("64,10", "softplus", "half_quadratic"),
    ("784,30,10", "relu,sigmoid", "cross_entropy"),
    ("3,3,2", "sigmoid,softmax", "log_likelihood"),
    ("3,4,3", "tanh,softmax", "log_likelihood", {"l2": 0.5}),
    ("3,3,2", "sigmoid,softmax", "quadratic", {"l1": 0.1}),
]

SECTIONS = ["The one-neuron chain", "The computation tree", "The chain rule for a weight", "The bias",
            "Propagating back", "Many training examples and the gradient", "Several neurons per layer",
            "The error and the four equations", "This network’s activation", "A worked example",
            "What the numbers show", "These notes and Nielsen’s book", "Exercises", "Answers"]


def _pdf_text(pdf):
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_every_network_compiles_whole_and_on_the_page(tmp_path):
    """One test, so that the networks are compiled once (in parallel), not once per worker: every
    section, no overfull box, references resolved, the plots drawn, the commands file attached, and
    every verify command copied from the PDF's text is the command itself (copy-safe)."""
    nets = [Network.parse(*n[:3], **(n[3] if len(n) > 3 else {})) for n in NETWORKS]
    paths = write_notes(nets, tmp_path, pdf=True)
    problems = []
    for net in nets:
        stem = notes.file_stem(net)
        pdf = tmp_path / f"{stem}.pdf"
        if str(pdf) not in paths or pdf.stat().st_size < 10_000:
            problems.append(f"{stem}: no PDF")
            continue
        text = _pdf_text(pdf)
        extra = ([f"The {net.activation(net.depth).words} output layer"] if not net.activation(net.depth).elementwise
                 else []) + [entry.title.split(" (")[0] for entry, _ in net.regularisers]
        missing = [title for title in SECTIONS + extra + ["BP1", "BP4", "symbackprop verify"] if title not in text]
        if missing:
            problems.append(f"{stem}: missing {missing}")
        log = (tmp_path / f"{stem}.log").read_text(errors="replace")
        overfull = re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)", log)
        if overfull:
            problems.append(f"{stem}: overfull boxes {overfull}")
        if "undefined references" in log or "Rerun to get" in log:
            problems.append(f"{stem}: unresolved references")
        if "pgfplots" not in log:
            problems.append(f"{stem}: no plots")
        attached = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True, text=True).stdout
        if f"{stem}.verify.sh" not in attached:
            problems.append(f"{stem}: the commands file is not attached")
        flat = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
        for ex in notes.context(net)["exercises"]:
            if ex.formula and " ".join(ex.answer_command.split()) not in flat:
                problems.append(f"{stem}: exercise {ex.number}'s command does not copy out of the PDF as printed")
    assert not problems, "\n".join(problems)


def test_tex_error_gives_the_first_error_line(tmp_path):
    tex = tmp_path / "broken.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\n\\nosuchcommand\n\\end{document}\n")
    with pytest.raises(SymbackpropError, match=r"broken\.tex:3: Undefined control sequence"):
        pdf.build_pdf(tex)


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_tex_cannot_read_files_outside_the_folder(tmp_path, how):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRETWORD\n")
    folder = tmp_path / "notes"
    folder.mkdir()
    target = str(secret) if how == "absolute" else "../secret.txt"
    tex = folder / "leak.tex"
    tex.write_text(f"\\documentclass{{article}}\n\\begin{{document}}\n\\input{{{target}}}\n\\end{{document}}\n")
    with pytest.raises(SymbackpropError, match="pdflatex failed"):
        pdf.build_pdf(tex)
    assert not (folder / "leak.pdf").exists()


def test_shell_escape_is_off(tmp_path):
    tex = tmp_path / "shell.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\n\\immediate\\write18{touch pwned}\nx\n"
                   "\\end{document}\n")
    pdf.build_pdf(tex)
    assert (tmp_path / "shell.pdf").exists() and not (tmp_path / "pwned").exists()


def test_tex_is_stopped_after_the_time_limit(tmp_path):
    tex = tmp_path / "loop.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\n\\def\\x{\\x}\\x\n\\end{document}\n")
    with pytest.raises(SymbackpropError, match="longer than 2 s"):  # the endless loop is stopped
        pdf.build_pdf(tex, timeout=2)


def test_cli_notes_pdf_for_the_lectures_networks(tmp_path):
    """(Its speed is measured in benchmarks/bench_notes.py, not asserted here.)"""
    result = run_cli("notes", "--pdf", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split()
    for stem in ("notes-1-1-1-1-sigmoid-quadratic", "notes-3-3-2-sigmoid-quadratic"):
        for ext in (".tex", ".md", ".pdf"):
            assert str(tmp_path / f"{stem}{ext}") in printed


def test_plain_pdflatex_when_latexmk_is_missing(tmp_path):
    net = Network.parse("2,2", "tanh", "half_quadratic")
    write_notes([net], tmp_path)
    built = pdf.build_pdf(tmp_path / f"{notes.file_stem(net)}.tex", engine=("pdflatex", shutil.which("pdflatex")))
    assert built.exists()
    text = _pdf_text(built)
    assert "Contents" in text and "1 The one-neuron chain" in text  # the second run filled in the contents
    assert not (tmp_path / f"{notes.file_stem(net)}.aux").exists()


def test_a_missing_latex_package_says_what_to_install(tmp_path):
    tex = tmp_path / "pkg.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage{nosuchpackage}\n\\begin{document}\nx\n\\end{document}\n")
    with pytest.raises(SymbackpropError, match=r"nosuchpackage\.sty' not found.*apt-get install"):
        pdf.build_pdf(tex)
