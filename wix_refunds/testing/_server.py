"""The loopback HTTP server: ``FakeWix.serve`` answers real sockets from a background thread."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from ._faults import _Faults


@contextlib.contextmanager
def serve_fake(fake: _Faults, host: str, port: int) -> Iterator[str]:
    """Serve ``fake`` over HTTP on ``host``:``port`` in a background thread; yield its base URL."""

    class Handler(_Handler):
        pass

    Handler.fake = fake
    server = _Server((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's backlog of 5 resets connections when many clients connect at once.
    request_queue_size = 256


class _Handler(http.server.BaseHTTPRequestHandler):
    fake: _Faults
    protocol_version = "HTTP/1.1"
    # One write per response, sent at once: headers and body in separate small
    # segments would wait on delayed ACKs (about 40 ms each on Linux).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.fake.latency:
            time.sleep(self.fake.latency)
        answer = self.fake.handle(self.command, self.path.split("?")[0], dict(self.headers.items()), body)
        if answer.hold:
            # Over a socket a late write keeps the client waiting until Wix applies it
            # (a client whose timeout is shorter gives up first), then gets no answer.
            time.sleep(answer.hold)
        if answer.refuse or answer.lose:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_DELETE = do_PATCH = _serve
