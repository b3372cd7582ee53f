"""Every limit of the web app in one place, stated on the pages and enforced by the app.

The numbers keep one request from taking the server away from everyone else on a 2-core
machine: bodies are bounded before they are read, and every computation runs in a worker
process with a time limit (``workers.py``).
"""

MAX_BODY = 64 * 1024
"""Bytes of a JSON request body (a formula is at most 2,000 characters)."""

MAX_CLASS_FILE = 1024 * 1024
"""Bytes of an uploaded class file (the /api/batch body may be a little larger: JSON quoting)."""

MAX_BATCH_BODY = 3 * MAX_CLASS_FILE
"""Bytes of a /api/batch request body: the class file quoted inside JSON."""

MAX_CLASS_LINES = 2000
"""Answers in one class file."""

BATCH_SECONDS = 120.0
"""Total time for grading one class file; answers not graded by then get an error result."""

MAX_FIELD = 2000
"""Characters of a formula or a network field."""

MAX_DEPTH = 64
"""Weight layers of a network on the web (the command line allows 512)."""

READ_SECONDS = 5.0
"""Time limit for reading a formula for the live preview."""

VERIFY_SECONDS = 20.0
"""Time limit for one verdict (the verifier stops itself after 10 s; this is the backstop)."""

DERIVE_SECONDS = 60.0
"""Time limit for a derivation, its page, or the generated module."""

NOTES_SECONDS = 180.0
"""Time limit for building one network's notes (the PDF build stops itself after 120 s)."""

MAX_BUILDS = 2
"""Notes builds (pdflatex) running at once; further requests wait their turn."""

NOTES_CACHED = 32
"""Networks whose built notes are kept on disk; the least recently used are removed."""

PAGES_CACHED = 64
"""Networks whose derivation page and generated module are kept in memory."""

PENDING_PER_WORKER = 64
"""Tasks waiting per worker process before the app answers 503 (busy, try again)."""
