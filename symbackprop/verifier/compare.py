"""Both sides of a formula, in numbers, at every binding and sample point.

The truth is the left-hand side's value at the point (from ``numeric``'s backprop, never from
the student's formula); the student's right-hand side is compiled by ``evaluate``.  ``same``
says whether two values agree.
"""

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from .. import notation as nt
from ..printing import plain
from ..errors import FormulaError
from .evaluate import EvaluationError, compile_expr
from .points import REGIMES, Point

POINTS = len(REGIMES)
"""Points of the network at which both sides are compared (seeds 0..3, one per regime)."""
DIAGNOSIS_SHARE = 0.5
"""Share of the time left when a comparison starts that the diagnosis may spend trying variants of the
formula; past it the verdict stands and the diagnosis says what it found so far."""
RTOL = 1e-11
"""Relative tolerance, against the size of the terms involved (never an absolute one, which a
vanishing gradient of 1e-19 falls under): rounding in double precision stays far below it,
while 2.00000001 for 2 or an added 10^{-12} are far above it."""


@lru_cache(maxsize=32)
def points(network):
    return tuple(Point(network, seed) for seed in range(POINTS))


def as_array(v):
    return np.asarray(v, dtype=float).reshape(-1) if np.size(v) == 1 else np.asarray(v, dtype=float)


def magnitude(expr):
    """The size of the terms of ``expr``: every sum's terms taken by their absolute value, so
    that a result that is small because terms cancel is compared against the terms' size."""
    if isinstance(expr, (sp.Add, sp.Mul, sp.Sum, *nt.MATRIX_OPERATIONS)):
        args = [magnitude(a) for a in expr.args] if not isinstance(expr, sp.Sum) else [magnitude(expr.function)]
        if isinstance(expr, sp.Sum):
            return sp.Sum(args[0], *expr.limits)
        return (sp.Add if isinstance(expr, sp.Add) else sp.Mul if isinstance(expr, sp.Mul) else expr.func)(*args)
    if isinstance(expr, sp.Pow) and expr.exp.is_Number:
        return sp.Pow(magnitude(expr.base), expr.exp)
    return sp.Abs(expr, evaluate=False)


def same(student, truth, scale=0.0):
    """Equal to within RTOL of the largest of the two values and the size of the student's terms."""
    s, t = as_array(student), as_array(truth)
    if s.shape != t.shape or not np.all(np.isfinite(s)):  # a row for a column, a vector for a number
        return False
    size = np.maximum(np.maximum(np.abs(s), np.abs(t)), np.abs(as_array(scale)).reshape(s.shape)
                      if np.size(scale) == s.size else np.abs(scale))
    return bool(np.all(np.abs(s - t) <= RTOL * size))


@dataclass
class Sample:
    env: dict
    point: int
    student: object
    truth: object
    error: str = None
    scale: object = 0.0  # the size of the student's terms

    @property
    def agrees(self):
        return self.error is None and same(self.student, self.truth, self.scale)


class Checker:
    """Both sides at every binding and point; reused by the diagnosis for its variants."""

    def __init__(self, formula, network, binds, deadline):
        self.formula = formula
        self.network = network
        self.binds = binds
        self.deadline = deadline
        now = time.monotonic()
        self.budget = now + DIAGNOSIS_SHARE * max(deadline - now, 0.0)
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

    def samples(self, rhs, stop_at_first=False, scaled=True):
        """[Sample] for ``rhs`` (a SymPy expression) at every binding and point; ``scaled``: with
        the size of its terms (the verdict needs it; a diagnosis trying variants does not)."""
        f = compile_expr(rhs, self.network, self.deadline)
        size = compile_expr(magnitude(plain(rhs)), self.network, self.deadline) if scaled else None
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
                try:
                    with np.errstate(all="ignore"):
                        scale = size(p, env) if size is not None else 0.0
                except EvaluationError:
                    scale = 0.0
                sample = Sample(env, i, s, t, scale=scale)
                out.append(sample)
                if stop_at_first and not sample.agrees:
                    return out
        return out

    def equivalent(self, rhs):
        """True when ``rhs`` matches the truth everywhere (False on any error, or past the diagnosis's budget)."""
        if time.monotonic() > self.budget:
            return False
        try:
            samples = self.samples(rhs, stop_at_first=True, scaled=False)
        except (FormulaError, EvaluationError, KeyError, TypeError, ValueError, ZeroDivisionError):
            return False
        return all(s.agrees for s in samples)
