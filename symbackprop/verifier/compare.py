"""Both sides of a formula, in numbers, at every binding and sample point.

The truth is the left-hand side's value at the point (from ``numeric``'s backprop, never from
the student's formula); the student's right-hand side is compiled by ``evaluate``.  ``same``
says whether two values agree.
"""

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import FormulaError
from .evaluate import EvaluationError, compile_expr
from .points import Point

POINTS = 3
"""Random points of the network at which both sides are compared (seeds 0, 1, 2)."""
RTOL, ATOL = 1e-7, 1e-9


@lru_cache(maxsize=32)
def points(network):
    return tuple(Point(network, seed) for seed in range(POINTS))


def as_array(v):
    return np.asarray(v, dtype=float).reshape(-1) if np.size(v) == 1 else np.asarray(v, dtype=float)


def same(student, truth):
    s, t = as_array(student), as_array(truth)
    if s.shape != t.shape or not np.all(np.isfinite(s)):  # a row for a column, a vector for a number
        return False
    return bool(np.allclose(s, t, rtol=RTOL, atol=ATOL))


@dataclass
class Sample:
    env: dict
    point: int
    student: object
    truth: object
    error: str = None


class Checker:
    """Both sides at every binding and point; reused by the diagnosis for its variants."""

    def __init__(self, formula, network, binds, deadline):
        self.formula = formula
        self.network = network
        self.binds = binds
        self.deadline = deadline
        self.points = points(network)
        self.truth_f = compile_expr(formula.lhs, network, deadline)
        self._truth = {}

    def truth(self, i, env):
        key = (i, tuple(sorted((str(k), v) for k, v in env.items())))
        if key not in self._truth:
            try:
                self._truth[key] = self.truth_f(self.points[i], env)
            except EvaluationError as e:
                raise FormulaError(f"the left-hand side: {e}", formula=self.formula.text) from None
        return self._truth[key]

    def samples(self, rhs, stop_at_first=False):
        """[Sample] for ``rhs`` (a SymPy expression) at every binding and point."""
        f = compile_expr(rhs, self.network, self.deadline)
        out = []
        for env in self.binds.envs:
            if time.monotonic() > self.deadline:
                raise FormulaError("this formula is too costly to decide in the time allowed")
            for i, p in enumerate(self.points):
                t = self.truth(i, env)
                try:
                    with np.errstate(all="ignore"):
                        s = f(p, env)
                except EvaluationError as e:
                    out.append(Sample(env, i, None, t, str(e)))
                    if stop_at_first:
                        return out
                    continue
                out.append(Sample(env, i, s, t))
                if stop_at_first and not same(s, t):
                    return out
        return out

    def equivalent(self, rhs):
        """True when ``rhs`` matches the truth everywhere (False on any error)."""
        if time.monotonic() > self.deadline:
            return False
        try:
            samples = self.samples(rhs, stop_at_first=True)
        except (FormulaError, EvaluationError, KeyError, TypeError, ValueError, ZeroDivisionError):
            return False
        return all(s.error is None and same(s.student, s.truth) for s in samples)
