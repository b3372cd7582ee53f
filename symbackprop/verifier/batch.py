"""Grading a class: one JSON object per line in, one verdict per line out, on every core.

Input lines are ``{"id": ..., "formula": ..., "sizes"/"activation"/"cost": optional}``.  Each
result echoes ``id`` and the line number; a line that is not JSON, has no formula, names a bad
network or holds a formula that cannot be read gets ``"verdict": "error"`` with the message,
and the batch goes on.  Results come back in input order.
"""

import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field

from ..errors import SymbackpropError
from ..spec import Network
from .verdict import verify

PARALLEL_FROM = 8
"""Below this many lines, grading in this process is faster than starting workers."""


def _network_for(entry, default):
    if not any(key in entry for key in ("sizes", "activation", "cost")):
        return default
    return Network.parse(entry.get("sizes", ",".join(map(str, default.sizes))),
                         entry.get("activation", ",".join(default.activations)), entry.get("cost", default.cost))


def grade_line(task):
    """One line -> one result dict; never raises."""
    number, line, default = task
    result = {"id": None, "line": number}
    try:
        entry = json.loads(line)
        if not isinstance(entry, dict):
            raise SymbackpropError("the line is not a JSON object")
        result["id"] = entry.get("id")
        formula = entry.get("formula")
        if not isinstance(formula, str):
            raise SymbackpropError('the line has no "formula" text')
        verdict = verify(formula, _network_for(entry, default))
        result.update(verdict.to_dict())
    except json.JSONDecodeError as e:
        result.update({"verdict": "error", "error": f"not valid JSON: {e.msg} (column {e.colno})"})
    except SymbackpropError as e:
        result.update({"verdict": "error", "error": str(e)})
    except RecursionError:
        result.update({"verdict": "error", "error": "the formula is nested too deeply"})
    except Exception as e:  # noqa: BLE001 - one bad line never stops the batch
        result.update({"verdict": "error", "error": f"internal error ({type(e).__name__}: {e}); please report it"})
    return result


@dataclass
class Summary:
    """Counts and speed of one batch; ``text()`` is what the CLI prints."""

    total: int = 0
    equivalent: int = 0
    not_equivalent: int = 0
    errors: int = 0
    seconds: float = 0.0
    workers: int = 1
    output: str = None
    results: list = field(default_factory=list, repr=False)

    @property
    def per_second(self):
        return self.total / self.seconds if self.seconds > 0 else float("inf")

    def text(self):
        where = f"; results in {self.output}" if self.output else ""
        return (f"graded {self.total} formulas: {self.equivalent} equivalent, {self.not_equivalent} not equivalent, "
                f"{self.errors} errors in {self.seconds:.2f} s ({self.per_second:.1f} formulas/s on "
                f"{self.workers} worker{'s' if self.workers != 1 else ''}){where}")

    def to_dict(self):
        return {"total": self.total, "equivalent": self.equivalent, "not_equivalent": self.not_equivalent,
                "errors": self.errors, "seconds": round(self.seconds, 3), "workers": self.workers}


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def grade_lines(lines, default_network=None, workers=None):
    """Results for the non-blank ``lines``, in order, graded on ``workers`` processes (default: all cores)."""
    default = Network.parse() if default_network is None else default_network
    tasks = [(n, line, default) for n, line in enumerate(lines, 1) if line.strip()]
    workers = workers or os.cpu_count() or 1
    if len(tasks) < PARALLEL_FROM or workers == 1:
        return [grade_line(t) for t in tasks], 1
    workers = min(workers, len(tasks))
    with _context().Pool(workers) as pool:
        return list(pool.imap(grade_line, tasks, chunksize=max(1, len(tasks) // (workers * 8)))), workers


def grade_file(path, output=None, default_network=None, workers=None):
    """Grade the JSON-lines file ``path``; write results to ``output`` (a path) or stdout."""
    start = time.monotonic()
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise SymbackpropError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise SymbackpropError(f"{path} is not UTF-8 text") from None
    results, used = grade_lines(lines, default_network, workers)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise SymbackpropError(f"cannot write {output}: {e.strerror}") from None
    verdicts = [r.get("verdict") for r in results]
    return Summary(total=len(results), equivalent=verdicts.count("equivalent"),
                   not_equivalent=verdicts.count("not_equivalent"), errors=verdicts.count("error"),
                   seconds=time.monotonic() - start, workers=used, output=output, results=results)
