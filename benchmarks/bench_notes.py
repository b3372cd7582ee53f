"""How long the study notes take: `symbackprop notes --pdf` for the lectures' networks (the
target is under 15 s), and the parts of it for a few networks.

    .venv/bin/python benchmarks/bench_notes.py

Prints the wall time of the command as a user runs it (a fresh process, both networks, PDFs
compiled in parallel by latexmk/pdflatex), then per network the time to render the .tex and
.md (derivation, worked example, templates) and to compile the PDF.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from symbackprop.render import notes
from symbackprop.render.pdf import build_pdf
from symbackprop.spec import Network

NETWORKS = [("1,1,1,1", None, None), ("3,3,2", None, None), ("4,4,4,2", "relu,tanh,sigmoid", "cross_entropy"),
            ("2,10,10,10,10,10,10", "tanh", "quadratic"), ("784,30,10", "relu,sigmoid", "cross_entropy"),
            ("3,4,3", "tanh,softmax", "log_likelihood", {"l2": 0.5}),
            ("784,30,10", "relu,softmax", "log_likelihood", {"l2": 5})]


def command(repeats=3):
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "symbackprop", "notes", "--pdf", "-o", out], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def parts(network):
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        notes.write_notes([network], out)
        render = time.perf_counter() - start
        start = time.perf_counter()
        build_pdf(Path(out) / f"{notes.file_stem(network)}.tex")
        compiled = time.perf_counter() - start
        pages = subprocess.run(["pdfinfo", str(Path(out) / f"{notes.file_stem(network)}.pdf")],
                               capture_output=True, text=True).stdout
        count = next((line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")), "?")
    return render, compiled, count


def main():
    load = os.getloadavg()[0]
    print(f"symbackprop notes --pdf (the lectures' two networks, median of 3): {command():.1f} s "
          f"(load average {load:.1f} before)")
    print(f"load average before the parts: {os.getloadavg()[0]:.1f}")
    print(f"\n  {'network':<52} {'render (s)':>10} {'pdf (s)':>8} {'pages':>6}")
    for args in NETWORKS:
        network = Network.parse(*args[:3], **(args[3] if len(args) > 3 else {}))
        render, compiled, pages = parts(network)
        print(f"  {network.describe():<52} {render:>10.2f} {compiled:>8.2f} {pages:>6}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
