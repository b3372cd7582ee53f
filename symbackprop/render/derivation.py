"""``derive --format text|latex``: the derivation printed in the order the lectures teach it."""

from .environment import render_template


def derivation_text(derivation):
    return render_template("derivation.txt.j2", d=derivation)


def derivation_latex(derivation):
    return render_template("derivation.tex.j2", d=derivation)
