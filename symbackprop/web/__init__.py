"""The web app of issue 13: pages for students and teachers and a JSON API, on FastAPI and uvicorn.

``create_app`` builds the ASGI app; ``serve`` runs it (``symbackprop serve``).  Everything the
pages show comes from the library (spec, derivation, verifier, render, codegen) run in worker
processes; nothing is re-implemented here.
"""


def create_app(workers=None, notes_dir=None):
    from .app import create_app as _create

    return _create(workers=workers, notes_dir=notes_dir)


def serve(host="127.0.0.1", port=8000, workers=None):
    from .server import serve as _serve

    return _serve(host, port, workers)


__all__ = ["create_app", "serve"]
