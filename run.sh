#!/usr/bin/env bash
# The two commands of the README:
#   bash run.sh main   set up (once) and run the main job: notes PDF, a verify example, codegen
#   bash run.sh test   set up (once) and run the whole test suite
# Set-up is idempotent: Debian packages only when missing, a virtual environment in .venv.
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES="texlive-latex-base texlive-latex-recommended texlive-pictures latexmk poppler-utils chromium"
VENV=.venv
PY=$VENV/bin/python

setup_debian() {
    local missing=""
    command -v pdflatex >/dev/null || missing=1
    command -v latexmk >/dev/null || missing=1
    command -v pdftotext >/dev/null || missing=1
    kpsewhich tikz.sty >/dev/null 2>&1 || missing=1
    command -v chromium >/dev/null || missing=1   # the web app's browser tests
    [ -z "$missing" ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "run.sh: installing TeX and Chromium (Debian packages: $DEBIAN_PACKAGES)" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $DEBIAN_PACKAGES >/dev/null
}

setup_python() {
    [ -x "$PY" ] || python3 -m venv "$VENV"
    local stamp="$VENV/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        "$PY" -m pip install -q --upgrade pip >/dev/null
        "$PY" -m pip install -q -e ".[test,examples]"
        touch "$stamp"
    fi
}

main_job() {
    local sb="$VENV/bin/symbackprop"
    echo "== derive: backpropagation for the lectures' 1-1-1-1 network"
    "$sb" derive
    echo "== check: derived formulas vs sympy.diff vs numerical backprop vs finite differences"
    "$sb" check
    echo "== notes: LaTeX, Markdown and PDF for the lectures' networks, in output/"
    "$sb" notes --pdf -o output
    echo "== verify: a student's correct chain rule, then one with sigma where sigma' is due"
    "$sb" verify '\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma^{\prime}(z^{(L)}) 2(a^{(L)} - y)'
    "$sb" verify '\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)' || [ $? -eq 1 ]
    echo "== codegen: a standalone NumPy module, then training on scikit-learn's digits with it"
    "$sb" codegen --sizes 64,32,10 --activation relu,sigmoid --cost cross_entropy -o output/digits_grad.py
    "$PY" examples/train_digits.py
    echo "== serve: the web app (student, notes, code and grading pages, JSON API) is started with"
    echo "     $sb serve --port 8000      # then open http://127.0.0.1:8000/ ; Ctrl-C stops it"
}

case "${1:-}" in
    main) setup_debian; setup_python; main_job ;;
    test) setup_debian; setup_python; "$PY" -m pytest -q -n 2 "${@:2}" ;;
    *) echo "usage: bash run.sh main|test [pytest args]" >&2; exit 2 ;;
esac
