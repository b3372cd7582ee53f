"""A small in-memory LRU for per-network results, computing each key once however many ask at once."""

import asyncio
from collections import OrderedDict


class Memo:
    """``await get(key, compute)``: the cached value, or ``await compute()`` shared by concurrent callers.

    Only successful values are kept; an exception reaches every waiting caller and is not cached.
    """

    def __init__(self, size):
        self.size = size
        self._values = OrderedDict()
        self._running = {}

    async def get(self, key, compute):
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        if key not in self._running:
            self._running[key] = asyncio.ensure_future(compute())
            self._running[key].add_done_callback(lambda task: self._finish(key, task))
        return await asyncio.shield(self._running[key])

    def _finish(self, key, task):
        self._running.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            self._values[key] = task.result()
            while len(self._values) > self.size:
                self._values.popitem(last=False)
