"""A hard time limit for one verify: past it, a clear "too costly to decide" (exit 2).

In the main thread of a process (the command line, each batch or web worker) the limit is
enforced by the interval timer: SIGALRM interrupts whatever Python code runs, SymPy included.
Elsewhere (a library call from another thread) only the cooperative checks of ``expired``
apply, between the steps of the comparison.
"""

import signal
import threading
import time
from contextlib import contextmanager

from ..errors import FormulaError

DEFAULT = 2.0
"""Seconds one verify may take (``--time-limit`` on the command line)."""


class TooCostly(Exception):
    """Raised inside the computation when the time is up."""


def _can_interrupt():
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def limit(seconds, formula=None):
    """Run the block for at most ``seconds``; past it, raise a FormulaError that says so."""
    deadline = time.monotonic() + seconds
    interrupt = _can_interrupt() and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # never nest timers

    def expire(signum, frame):
        raise TooCostly()

    if interrupt:
        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield deadline
    except TooCostly:
        raise FormulaError(f"this formula is too costly to decide within {seconds:g} s (nested sums over wide layers, "
                           "huge numbers or deep nesting); simplify it or check it on a smaller network with --sizes",
                           formula=formula) from None
    finally:
        if interrupt:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
