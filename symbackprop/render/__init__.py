"""Render the derivation: text for terminals, LaTeX and Markdown through Jinja templates.

``environment()`` is the one Jinja environment (LaTeX-safe delimiters, SymPy filters); the
templates are package data in ``symbackprop/templates/``.  ``notes`` gathers what the study
notes show (with ``example``, ``exercises`` and ``figures``), ``pdf`` compiles them.
"""

from .derivation import derivation_latex, derivation_text
from .environment import environment, render_template
from .notes import render_notes, write_notes

__all__ = ["environment", "render_template", "derivation_latex", "derivation_text",
           "write_notes", "render_notes"]
