"""A real SS 12000 HTTP server for the tests, serving the file-backed data page by page.

It answers ``GET /organisations``, ``/persons`` and ``/aggregatedAttendance`` in the
standard's list shape, pages with an opaque ``pageToken`` (which, as the standard says, may
be combined only with ``limit``), and can be told to fail: ``fail_status`` (e.g. 500) or
``malformed`` for a path, ``lose_pages`` (404 for every pageToken), ``delay`` seconds.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from flows.skolplikt.connectors.ss12000 import (
    FILE_ORGANISATIONS,
    FILE_PERSONS,
    FileSs12000Source,
)
from municipality.runtime import free_port


class Ss12000TestServer:
    def __init__(self, directory, *, token: str | None = None) -> None:
        self.source = FileSs12000Source(directory)
        self.token = token
        self.requests: list[tuple[str, dict[str, list[str]], str | None]] = []
        self.fail_status: dict[str, int] = {}
        self.malformed: set[str] = set()
        self.lose_pages = False
        self.delay = 0.0
        self._pages: dict[str, tuple[list, int, int]] = {}
        self.port = free_port()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Ss12000TestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _data(self, path: str, query: dict[str, list[str]]) -> list:
        if path == "/organisations":
            return self.source.raw(FILE_ORGANISATIONS)
        if path == "/persons":
            return self.source.raw(FILE_PERSONS)
        records = self.source.aggregated_attendance(
            organisation=query["organisation"][0],
            start_date=date.fromisoformat(query["startDate"][0]),
            end_date=date.fromisoformat(query["endDate"][0]),
        )
        return [r.model_dump(mode="json") for r in records]

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        if path not in ("/organisations", "/persons", "/aggregatedAttendance"):
            return 404, b'{"code": 404, "message": "not found"}'
        if path in self.fail_status:
            return self.fail_status[path], b'{"code": 500, "message": "internal error"}'
        if path in self.malformed:
            return 200, b'{"data": [ {"id": '
        if "pageToken" in query:
            token = query["pageToken"][0]
            if self.lose_pages or token not in self._pages:
                return 404, b'{"code": 404, "message": "unknown pageToken"}'
            data, offset, limit = self._pages.pop(token)
        else:
            data, offset = self._data(path, query), 0
            limit = int(query.get("limit", ["100"])[0])
        page = data[offset : offset + limit]
        next_token = None
        if offset + limit < len(data):
            next_token = uuid.uuid4().hex
            self._pages[next_token] = (data, offset + limit, limit)
        return 200, json.dumps({"data": page, "pageToken": next_token}).encode()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                server.requests.append((parts.path, query, self.headers.get("Authorization")))
                if server.delay:
                    threading.Event().wait(server.delay)
                if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
                    status, body = 401, b'{"code": 401, "message": "unauthorised"}'
                else:
                    status, body = server._answer(parts.path, query)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test): nothing to answer

            def log_message(self, format, *args):  # keep test output quiet
                pass

        return Handler
