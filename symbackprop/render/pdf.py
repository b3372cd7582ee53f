"""The PDF build: pdflatex (through latexmk when present), sandboxed.

Shell escape off, non-interactive, stop at the first error, TeX confined to the output folder
(``openin_any=p``, ``openout_any=p``), a time limit; a TeX error is one line naming the log's
first error.
"""

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from ..errors import SymbackpropError

TEX_TIMEOUT = 120  # seconds for one PDF build
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures latexmk"
INSTALL_HINT = f"sudo apt-get install -y --no-install-recommends {TEX_PACKAGES}"


def find_engine():
    """("latexmk", path) or ("pdflatex", path), or an error that says what to install."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise SymbackpropError(f"--pdf needs pdflatex, which is not installed; install TeX with: {INSTALL_HINT}")
    latexmk = shutil.which("latexmk")
    return ("latexmk", latexmk) if latexmk else ("pdflatex", pdflatex)


def tex_environment():
    """The environment TeX runs in: no file reads or writes outside the working folder."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f")
    return env


AUXILIARY = (".aux", ".toc", ".out", ".fls", ".fdb_latexmk", ".atfi")
PDFLATEX_FLAGS = ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]


def _run(cmd, cwd, timeout):
    proc = subprocess.Popen(cmd, cwd=cwd, env=tex_environment(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise SymbackpropError(f"TeX took longer than {timeout} s and was stopped ({' '.join(cmd[:1])} in {cwd})") from None
    return proc.returncode, out.decode("utf-8", "replace")


def first_error(log_text):
    """The first error line of a TeX log ('! Undefined control sequence.' or file:line: ...)."""
    for line in log_text.splitlines():
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+: ", line):
            return line.strip()
    return ""


def build_pdf(tex_path, engine=None, timeout=TEX_TIMEOUT):
    """Compile ``tex_path`` to PDF next to it with pdflatex (through latexmk when present):
    shell escape off, non-interactive, stop at the first error, TeX confined to the folder."""
    engine = engine or find_engine()
    tex_path = Path(tex_path)
    folder, name = tex_path.parent.resolve(), tex_path.name
    log = folder / f"{tex_path.stem}.log"
    if engine[0] == "latexmk":  # -norc: no latexmkrc (Perl) from the folder is read
        cmd, runs = [engine[1], "-norc", "-pdf", "-silent", *PDFLATEX_FLAGS, name], 1
    else:  # the contents, references and longtable widths settle by the second or third run
        cmd, runs = [engine[1], *PDFLATEX_FLAGS, name], 4
    for run in range(runs):
        code, output = _run(cmd, folder, timeout)
        text = log.read_text("utf-8", "replace") if log.exists() else output
        if code != 0:
            error = first_error(text) or first_error(output) or f"exit status {code}"
            hint = f"; install the TeX packages with: {INSTALL_HINT}" if re.search(r"`[^']+\.sty' not found", error) else ""
            raise SymbackpropError(f"pdflatex failed on {tex_path}: {error} (full log: {log}){hint}")
        if run >= 1 and "Rerun" not in text:
            break
    pdf = tex_path.with_suffix(".pdf")
    if not pdf.exists():
        raise SymbackpropError(f"pdflatex wrote no PDF for {tex_path}")
    for ext in AUXILIARY:  # the .log stays, for anyone who wants to read it
        folder.joinpath(f"{tex_path.stem}{ext}").unlink(missing_ok=True)
    return pdf
