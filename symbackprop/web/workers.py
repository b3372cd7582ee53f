"""Worker processes with a time limit per task, so one slow formula never blocks the others.

Everything that runs SymPy (reading, verifying, deriving, notes, code) runs in a pebble
``ProcessPool``: a task past its time limit has its process killed and replaced, and the request
gets a clear error.  Workers start from a forkserver that has imported the library once, so a
replacement is ready in a fraction of a second, and each worker warms up (grammar, the lectures'
derivation) before its first task.  The event loop only awaits futures.
"""

import asyncio
import multiprocessing
import os

from .limits import PENDING_PER_WORKER

PRELOAD = ["symbackprop.web.tasks", "symbackprop.verifier", "symbackprop.derivation",
           "symbackprop.codegen", "symbackprop.render", "latex2mathml.converter"]


class Busy(Exception):
    """More tasks are waiting than the workers can take: answer 503 and let the client retry."""


class TaskTimeout(Exception):
    """A task ran past its time limit and its worker was replaced."""


class WorkerFailed(Exception):
    """A worker process died during the task (out of memory, a crash in a native library)."""


def default_workers():
    return max(1, os.cpu_count() or 1)


class Workers:
    """A pool of ``processes`` workers; ``await run(fn, *args, timeout=…)`` is the one way in."""

    def __init__(self, processes=None):
        self.processes = processes or default_workers()
        self.max_pending = self.processes * PENDING_PER_WORKER
        self.pending = 0
        self._pool = None

    def start(self):
        from pebble import ProcessPool

        from . import tasks

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            context.set_forkserver_preload(PRELOAD)
        self._pool = ProcessPool(max_workers=self.processes, initializer=tasks.warm_up, context=context)

    def stop(self):
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None

    async def run(self, fn, *args, timeout):
        """``fn(*args)`` in a worker; its return value, or Busy, TaskTimeout or WorkerFailed."""
        from pebble import ProcessExpired

        if self._pool is None:
            raise WorkerFailed("the server is not running its workers")
        if self.pending >= self.max_pending:
            raise Busy(f"the server is busy ({self.pending} requests waiting); try again in a moment")
        self.pending += 1
        try:
            future = self._pool.schedule(fn, args, timeout=timeout)
            # shield: a client that goes away does not kill a worker in the middle of a task
            return await asyncio.shield(asyncio.wrap_future(future))
        except TimeoutError:
            raise TaskTimeout(f"this took longer than {timeout:g} s and was stopped") from None
        except ProcessExpired as e:
            raise WorkerFailed(f"a worker process died ({e}); please report it") from None
        finally:
            self.pending -= 1
