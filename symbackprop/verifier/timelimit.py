"""A hard time limit for one verify: past it, a clear "too costly to decide" (exit 2).

In the main thread of a process (the command line, each batch or web worker) the limit is
enforced by the interval timer: SIGALRM interrupts whatever Python code runs, SymPy included.
Elsewhere (a library call from another thread) only the cooperative checks of ``expired``
apply, between the steps of the comparison.
"""

import os
import signal
import threading
import time
from contextlib import contextmanager

from sympy.core.cache import clear_cache

from ..errors import FormulaError, SymbackpropError

DEFAULT = 2.0
"""Seconds one verify may take (``--time-limit`` on the command line)."""

ENVIRONMENT = "SYMBACKPROP_TIME_LIMIT"
"""Sets the default instead, for a slow machine or a test suite on a busy one."""


def default():
    """The seconds one verify may take unless told: DEFAULT, or what SYMBACKPROP_TIME_LIMIT says."""
    text = os.environ.get(ENVIRONMENT, "").strip()
    if not text:
        return DEFAULT
    try:
        seconds = float(text)
    except ValueError:
        raise SymbackpropError(f"{ENVIRONMENT}={text!r}: give a number of seconds") from None
    return checked(seconds, ENVIRONMENT)


def checked(seconds, name="--time-limit"):
    """``seconds`` when it is a sensible limit, else the one-line error naming where it came from."""
    if not 0.1 <= seconds <= 600:
        raise SymbackpropError(f"{name} {seconds:g}: give between 0.1 and 600 seconds")
    return seconds


class TooCostly(Exception):
    """Raised inside the computation when the time is up; ``stage`` says what it was doing."""

    def __init__(self, stage="", network=None):
        super().__init__(stage)
        self.stage, self.network = stage, network


STAGES = (("points.py", "points"), ("numeric.py", "points"), ("derivation.py", "derive"), ("evaluate.py", "sums"))
"""Which step a frame of the computation belongs to, by its module: the message says what took long."""


def stage_of(frame):
    """(stage, network) of the innermost step of ``frame``'s stack that STAGES names, else ('', None)."""
    stage = ""
    while frame is not None:
        name = frame.f_code.co_filename.rsplit("/", 1)[-1]
        for module, step in STAGES:
            if not stage and name == module and (step != "sums" or frame.f_code.co_name in ("over", "total")):
                stage = step
        network = frame.f_locals.get("network") or getattr(frame.f_locals.get("self"), "network", None)
        if stage and hasattr(network, "num_parameters"):
            return stage, network
        frame = frame.f_back
    return stage, None


def message(seconds, stage, network):
    """What took longer than ``seconds``, in the user's terms, and what to do about it."""
    size = f" ({network.num_parameters:,} parameters)" if getattr(network, "num_parameters", None) else ""
    if stage == "points":
        return (f"this network{size} is too large to check a formula on within {seconds:g} s: computing its values "
                "at the sample points takes longer; check the formula on a smaller network with --sizes, or allow "
                "more time with --time-limit")
    if stage == "derive":
        return (f"deriving backpropagation for this network{size} takes longer than {seconds:g} s; check the "
                "formula on a smaller network with --sizes, or allow more time with --time-limit")
    if stage == "sums":
        return (f"this formula is too costly to decide within {seconds:g} s: its sums have too many terms on this "
                "network; check it on a smaller network with --sizes")
    return (f"this formula is too costly to decide within {seconds:g} s; simplify it, or check it on a smaller "
            "network with --sizes")


def _can_interrupt():
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def limit(seconds, formula=None):
    """Run the block for at most ``seconds`` (None: ``default()``); past it, raise a FormulaError that says so."""
    seconds = default() if seconds is None else seconds
    deadline = time.monotonic() + seconds
    interrupt = _can_interrupt() and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # never nest timers

    def expire(signum, frame):
        raise TooCostly(*stage_of(frame))

    if interrupt:
        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield deadline
    except TooCostly as e:
        clear_cache()  # SymPy was stopped anywhere, perhaps halfway through caching what it deduced: start afresh
        raise FormulaError(message(seconds, e.stage, e.network), formula=formula) from None
    finally:
        if interrupt:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
