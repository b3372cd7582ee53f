"""The example notebook runs from top to bottom (nbclient), and shows what it promises."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from symbackprop import derive
from symbackprop.gradcheck import check
from symbackprop.spec import Network
from symbackprop.verifier import verify
from symbackprop.verifier.result import html_table

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "symbackprop.ipynb"


def test_the_example_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    rich = [o["data"] for o in outputs if o.output_type == "execute_result"]
    assert any(r"\begin{aligned}" in data.get("text/latex", "") for data in rich)  # BP1-BP4, one per line
    assert any("<table>" in data.get("text/html", "") for data in rich)  # verify and check as tables
    assert any("test accuracy" in o.get("text", "") for o in outputs if o.output_type == "stream")


def test_rich_displays():
    assert derive()._repr_latex_().startswith(r"$$\begin{aligned}") and " &= " in derive()._repr_latex_()
    assert derive().weight._repr_latex_().startswith("$\\displaystyle")
    result = verify(r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)")
    html = result._repr_html_()
    assert html.startswith("<table>") and "not equivalent" in html and "σ&#x27;(z^(L))" in html
    assert "&lt;script&gt;" in html_table([("note", "<script>")])  # every value escaped
    assert check(Network.parse("2,2"))._repr_html_().count("<tr>") == 3  # head, W1, b1
