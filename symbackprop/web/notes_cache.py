"""Built notes on disk, one folder per network, built by the library's sandboxed build.

The folder's name is a hash of the validated network (never user text); inside, the library
names its files (``notes-3-3-2-sigmoid-quadratic.pdf`` …).  One build per network at a time,
at most ``MAX_BUILDS`` at once, and the least recently used folders beyond ``NOTES_CACHED`` are
removed.  The PDF is built only when asked for: the page needs only the Markdown and figures.
"""

import asyncio
import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path

from . import tasks
from .limits import MAX_BUILDS, NOTES_CACHED, NOTES_SECONDS

KEY = re.compile(r"[0-9a-f]{20}")


class BuildFailed(Exception):
    """The notes could not be built on this server (e.g. no TeX installed): a 503, not the client's fault."""


def network_key(network):
    """A stable folder name for a network."""
    return hashlib.sha256(json.dumps(network.to_dict(), sort_keys=True).encode()).hexdigest()[:20]


class NotesCache:
    def __init__(self, workers, root=None):
        self.workers = workers
        self._own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="symbackprop-notes-"))
        self._builds = asyncio.Semaphore(MAX_BUILDS)
        self._locks = {}
        self._stems = {}

    def close(self):
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def folder(self, key):
        """The folder of a built network, or None (``key`` comes from a URL: checked, never trusted)."""
        if not KEY.fullmatch(key or ""):
            return None
        path = self.root / key
        return path if path.is_dir() else None

    async def build(self, network, pdf=False):
        """(folder, stem) with the notes of ``network`` built, and its PDF when ``pdf``."""
        key = network_key(network)
        folder = self.root / key
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            stem = self._stems.get(key)
            done = stem is not None and (folder / "page.html").exists() and (
                not pdf or (folder / f"{stem}.pdf").exists())
            if not done:
                async with self._builds:
                    status, value = await self.workers.run(tasks.build_notes, network, str(folder), pdf,
                                                           timeout=NOTES_SECONDS)
                if status == "error":
                    raise BuildFailed(value["error"])
                stem = self._stems[key] = value["stem"]
            folder.touch()
        self._evict()
        return folder, stem

    def _evict(self):
        folders = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in folders[:-NOTES_CACHED]:
            if not self._locks.get(old.name, asyncio.Lock()).locked():
                shutil.rmtree(old, ignore_errors=True)
                self._stems.pop(old.name, None)
                self._locks.pop(old.name, None)
