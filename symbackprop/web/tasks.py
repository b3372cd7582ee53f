"""What the worker processes run: thin calls into the library, and their HTML views.

Each task returns ``("ok", value)`` or ``("error", {"error": message, "position": column})`` for
input the library refuses (a SymbackpropError), so that no exception has to cross the process
boundary (FormulaError's position would not survive pickling).  Anything else is a bug and is
raised as usual.
"""

import functools
import signal


def _outcome(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        from ..errors import SymbackpropError

        try:
            return "ok", fn(*args)
        except SymbackpropError as e:
            return "error", {"error": str(e), "position": getattr(e, "position", None)}
        except RecursionError:
            return "error", {"error": "the formula is nested too deeply", "position": None}
    return wrapper


def warm_up():
    """Worker initializer: Ctrl-C is for the server, not its workers; build the caches once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from ..spec import Network
    from ..verifier import read

    read(r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)}", Network.parse())


@_outcome
def read_formula(formula, network):
    """The live preview: how the formula was read, as LaTeX, text and MathML."""
    from ..verifier import read

    from .mathml import mathml

    view = read(formula, network)
    return {**view, "mathml": str(mathml(view["latex"], True))}


@_outcome
def verify_formula(formula, network, typeset):
    """The ``verify --json`` object; with ``typeset`` also MathML of the parsed and expected forms."""
    from ..verifier import verify

    from .mathml import mathml

    result = verify(formula, network).to_dict()
    if typeset:
        result["mathml"] = {key: str(mathml(result[key], True)) if result.get(key) else None
                            for key in ("parsed", "expected")}
    return result


@_outcome
def derivation_data(network):
    """The ``derive --format json`` data."""
    from ..derivation import derive

    return derive(network).to_dict()


@_outcome
def derivation_html(network):
    """The derivation as an HTML fragment with MathML, section by section."""
    from ..derivation import derive

    from .views import render

    return render("derivation.html.j2", d=derive(network).to_dict())


@_outcome
def module_source(network):
    """The generated module's text and its highlighted HTML."""
    from ..codegen import source

    from .views import highlight_python

    text = source(network)
    return {"source": text, "html": highlight_python(text)}


@_outcome
def grade_answer(json_line, network):
    """One answer of a class file, graded by the batch grader (never raises for bad input)."""
    from ..verifier.batch import grade_lines

    results, _ = grade_lines([json_line], network, 1)
    return results[0]


@_outcome
def build_notes(network, directory, pdf):
    """Write the notes (.tex, .md, figures, and with ``pdf`` the PDF) and the page's HTML into ``directory``."""
    from pathlib import Path

    from ..render import write_notes

    from .views import notes_html

    paths = [Path(p) for p in write_notes([network], directory, pdf=pdf)]
    markdown = next(p for p in paths if p.suffix == ".md")
    page = Path(directory) / "page.html"
    if not page.exists():
        html = notes_html(markdown.read_text(encoding="utf-8"), markdown.stem, Path(directory).name)
        page.write_text(html, encoding="utf-8")
    return {"stem": markdown.stem, "files": sorted(p.name for p in Path(directory).iterdir())}
