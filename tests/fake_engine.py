"""A tiny HTTP server that plays back scripted engine answers, for the remote engine tests.

Each test sets `FakeEngine.reply(path, body) -> Reply`; the server records every request (path,
JSON body, headers) and whether the client hung up before the reply was finished.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    lines: list[str] = field(default_factory=list)  # written one by one, flushed
    hang_after: int | None = None  # stop writing after this many lines and wait (a stuck engine)
    content_type: str = "text/event-stream"


@dataclass
class Seen:
    path: str
    body: dict
    headers: dict
    hung_up: bool = False  # the client closed the connection before the last line
    written: int = 0  # lines sent so far
    done: threading.Event = field(default_factory=threading.Event)  # the reply has ended

    def ended(self) -> Seen:
        """Wait for the server to finish (or give up) writing the reply."""
        assert self.done.wait(10), "the fake engine is still writing"
        return self


class FakeEngine:
    def __init__(self) -> None:
        self.reply: Callable[[str, dict], Reply] = lambda path, body: Reply(404)
        self.seen: list[Seen] = []
        self.release = threading.Event()  # ends every hang
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._answer({})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self._answer(json.loads(self.rfile.read(length) or b"{}"))

            def _answer(self, body: dict) -> None:
                seen = Seen(self.path, body, dict(self.headers))
                engine.seen.append(seen)
                reply = engine.reply(self.path, body)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for index, line in enumerate(reply.lines):
                        if reply.hang_after is not None and index >= reply.hang_after:
                            engine.release.wait(30)
                            return
                        self.wfile.write(line.encode() + b"\n")
                        self.wfile.flush()
                        seen.written += 1
                        if len(reply.lines) > 1:
                            engine.release.wait(0.02)  # token by token
                except (BrokenPipeError, ConnectionResetError):
                    seen.hung_up = True
                finally:
                    seen.done.set()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeEngine:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def sse(*events: dict | str) -> list[str]:
    """SSE lines for JSON events (a str is sent as is, e.g. "[DONE]")."""
    lines = []
    for event in events:
        lines += [f"data: {event if isinstance(event, str) else json.dumps(event)}", ""]
    return lines
