"""A stand-in for the 企业微信 group robot: a real HTTP server on a free port on 127.0.0.1 that
records every POST (arrival time, JSON body) and answers as the robot does
({"errcode": 0, "errmsg": "ok"}), or with an error while told to fail."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.ports import free_port

TAG = re.compile(r"#[0-9a-f]{8}")


@dataclass
class Received:
    at: float  # time.monotonic() at arrival
    body: dict[str, Any]

    @property
    def content(self) -> str:
        return str(self.body.get("markdown", {}).get("content", ""))

    @property
    def tags(self) -> list[str]:
        return TAG.findall(self.content)


@dataclass
class Robot:
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    failing: int = 0  # answer this many POSTs with HTTP 500 first

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key=test-robot-key-0123456789"

    def start(self) -> Robot:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if robot.failing > 0:
                    robot.failing -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                robot.received.append(Received(time.monotonic(), body))
                answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def most_in_a_minute(self, window: float = 60.0) -> int:
        times = sorted(r.at for r in self.received)
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best
