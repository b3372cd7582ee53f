"""``symbackprop serve``: the app on uvicorn, on a socket we bind first so a busy port is one clear line.

uvicorn handles Ctrl-C and SIGTERM: it stops accepting, finishes open requests (at most 5 s), and
the app's shutdown stops the worker processes.  uvicorn then raises the signal again for the
handler that was there before it; ours only notes it, so the command ends with exit code 0.
"""

import signal
import socket

from ..errors import SymbackpropError


def bind(host, port):
    """A listening socket on host:port, or a SymbackpropError saying why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise SymbackpropError(f"--host {host}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise SymbackpropError(f"cannot listen on {host}:{port}: {e.strerror}; is another server running there? "
                               f"use --port to choose another") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(host="127.0.0.1", port=8000, workers=None):
    """Serve until Ctrl-C or SIGTERM."""
    import uvicorn

    from .app import create_app

    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    print(f"symbackprop: serving on http://{shown}:{sock.getsockname()[1]}/ (API docs at /docs); Ctrl-C stops",
          flush=True)
    config = uvicorn.Config(create_app(workers=workers), log_level="warning", timeout_graceful_shutdown=5,
                            access_log=False)
    received = []
    previous = {sig: signal.signal(sig, lambda number, frame: received.append(number))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("symbackprop: stopped", flush=True)
