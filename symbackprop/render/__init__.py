"""Render the derivation: text for terminals, LaTeX and Markdown through Jinja templates.

``environment()`` is the one Jinja environment (LaTeX-safe delimiters, SymPy filters);
templates live in the top-level ``templates/`` folder, installed as ``symbackprop.templates``.
"""

from .environment import environment, render_template
from .derivation import derivation_latex, derivation_text


def write_notes(networks=None, out_dir="output", pdf=False):
    """Write the study notes for ``networks`` (default: the lectures' networks) into ``out_dir``."""
    from .notes import write_notes as _write

    return _write(networks, out_dir, pdf=pdf)


def render_notes(network, target="latex"):
    """The notes for one network as a string: ``target`` is "latex" or "markdown"."""
    from .notes import render_notes as _render

    return _render(network, target)


__all__ = ["environment", "render_template", "derivation_latex", "derivation_text",
           "write_notes", "render_notes"]
