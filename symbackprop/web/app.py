"""The ASGI app: FastAPI routes, the worker pool's lifetime, limits, errors as JSON, security headers.

``create_app(workers=N)`` is what ``symbackprop serve`` runs on uvicorn and what the tests drive
in-process.  Every error a client can cause becomes a 4xx with ``{"error": "one line"}``;
a 500 means a bug.
"""

import contextlib
import logging
from importlib import resources

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import SymbackpropError
from .limits import MAX_BATCH_BODY, MAX_BODY
from .notes_cache import BuildFailed
from .workers import Busy, TaskTimeout, WorkerFailed, Workers

log = logging.getLogger("symbackprop.web")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


def create_app(workers=None, notes_dir=None):
    """The app, with ``workers`` worker processes (default: one per core) started on startup."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        from .cache import Memo
        from .limits import PAGES_CACHED
        from .notes_cache import NotesCache

        app.state.workers = Workers(workers)
        app.state.workers.start()
        app.state.memo = Memo(PAGES_CACHED)
        app.state.notes = NotesCache(app.state.workers, notes_dir)
        try:
            yield
        finally:
            app.state.workers.stop()
            app.state.notes.close()

    from fastapi_offline import FastAPIOffline

    # FastAPIOffline: /docs is Swagger UI served from the fastapi-offline package itself, no CDN
    app = FastAPIOffline(title="symbackprop", version=__version__, lifespan=lifespan, redoc_url=None,
                  description="Backpropagation derived symbolically with SymPy: verdicts on hand-written "
                              "formulas, the derivation, study notes and gradient code, as a JSON API. "
                              "Request bodies are named like the command line's options.")
    _errors(app)
    app.add_middleware(BodyLimit, default=MAX_BODY, larger={"/api/batch": MAX_BATCH_BODY})
    app.add_middleware(SecurityHeaders)

    from .api import api, downloads
    from .pages import pages

    app.include_router(api)
    app.include_router(downloads)
    app.include_router(pages)
    static = resources.files("symbackprop.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def error(status, message, **extra):
    return JSONResponse({"error": message, **extra}, status_code=status)


def _errors(app):
    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        return error(400, _validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http(request, exc):
        message = exc.detail if isinstance(exc.detail, str) else "bad request"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or endpoint: {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed here; see /docs"
        return error(exc.status_code, message)

    @app.exception_handler(SymbackpropError)
    async def bad_input(request, exc):
        extra = {}
        if getattr(exc, "position", None) is not None or getattr(exc, "formula", None) is not None:
            extra = {"position": exc.position}
        return error(400, str(exc), **extra)

    @app.exception_handler(TaskTimeout)
    async def timeout(request, exc):
        return error(422, str(exc))

    @app.exception_handler(Busy)
    async def busy(request, exc):
        response = error(503, str(exc))
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(BuildFailed)
    async def build_failed(request, exc):
        return error(503, f"the notes could not be built on this server: {exc}")

    @app.exception_handler(WorkerFailed)
    async def worker_failed(request, exc):
        return error(500, str(exc))

    @app.exception_handler(Exception)
    async def bug(request, exc):  # a bug in symbackprop, never the client's input: still one JSON line
        log.error("internal error on %s", request.url.path, exc_info=exc)
        return error(500, f"internal error ({type(exc).__name__}: {exc}); please report it")


def _validation_message(errors):
    """Pydantic's first complaint as one line a person can act on."""
    if not errors:
        return "bad request"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return f"the request body is not valid JSON ({first.get('ctx', {}).get('error', 'syntax error')})"
    if kind == "missing":
        return f"'{where}' is required" if where else "a JSON object is required as the request body"
    if kind == "extra_forbidden":
        return f"unknown key '{where}'; the keys are named like the command line's options (see /docs)"
    if kind == "model_attributes_type":
        return "the request body must be a JSON object"
    if kind == "string_too_long":
        return f"'{where}' is too long (at most {first.get('ctx', {}).get('max_length')} characters)"
    return f"'{where}': {first.get('msg', 'invalid')}" if where else first.get("msg", "bad request")


class BodyLimit:
    """ASGI middleware: refuse bodies over the limit (413) before or while they are read."""

    def __init__(self, app, default, larger):
        self.app, self.default, self.larger = app, default, larger

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.larger.get(scope["path"], self.default)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await _too_large(limit, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise StarletteHTTPException(413, _too_large_message(limit))
            return message
        return await self.app(scope, limited, send)


def _too_large_message(limit):
    return f"the request body is larger than {limit // 1024:,} KiB"


async def _too_large(limit, send):
    response = error(413, _too_large_message(limit))
    await response({"type": "http"}, None, send)


class SecurityHeaders:
    """ASGI middleware: a strict Content-Security-Policy and friends on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = DOCS_CSP if scope["path"] == "/docs" else CSP

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", csp.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
                message = {**message, "headers": headers}
            await send(message)
        return await self.app(scope, receive, with_headers)
