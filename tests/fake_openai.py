"""A small local server that speaks the OpenAI chat-completions protocol, streaming too.

Tests script what it answers (a stream, a slow stream, 429s, a 500, a malformed chunk)
and read back what it was sent. It runs on 127.0.0.1 in a thread, or as its own process
(`python -m tests.fake_openai PORT SCENARIO`) for a worker in another process to call.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Script:
    scenario: str = "ok"
    answer: str = "The **answer**, streamed in pieces."
    chunks: int = 5
    delay: float = 0.0
    rate_limited: int = 0
    retry_after: str = "1"
    requests: list[dict] = field(default_factory=list)


def split(text: str, parts: int) -> list[str]:
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def chunk(content: str | None, finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "delta": {"content": content} if content is not None else {},
                "finish_reason": finish,
            }
        ],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class Handler(BaseHTTPRequestHandler):
    script: Script

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        script = self.server.script
        script.requests.append(
            {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self.error(404, "not found")
        if script.scenario == "error_500":
            return self.error(500, "The server had an error while processing your request.")
        if script.scenario == "rate_limit" or (
            script.scenario == "rate_limit_then_ok" and len(script.requests) <= script.rate_limited
        ):
            return self.error(429, "Rate limit reached.", {"Retry-After": script.retry_after})
        if not body.get("stream"):
            return self.json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": body.get("model", "fake-model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": script.answer},
                            "finish_reason": "stop",
                        }
                    ],
                },
            )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            for index, piece in enumerate(split(script.answer, script.chunks)):
                if script.scenario == "malformed" and index == 1:
                    self.wfile.write(b'data: {"id": "broken", "choices": [\n\n')
                    self.wfile.flush()
                    return
                self.wfile.write(chunk(piece))
                self.wfile.flush()
                if script.delay:
                    time.sleep(script.delay)
            self.wfile.write(chunk(None, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def json(self, status: int, payload: dict, headers: dict | None = None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status: int, message: str, headers: dict | None = None):
        body = {"error": {"message": message, "type": "fake_error", "code": status}}
        self.json(status, body, headers)


class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 resets connections when a hundred jobs claimed
    # in one batch call at once; a real provider's listener takes them all.
    request_queue_size = 1024


class FakeOpenAI:
    def __init__(self, port: int = 0, script: Script | None = None):
        self.script = script or Script()
        self.server = Server(("127.0.0.1", port), Handler)
        self.server.script = self.script
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_openai(settings):
    """A fake provider on a free port, with the AI_* settings pointing at it."""
    with FakeOpenAI() as server:
        settings.AI_BASE_URL = server.base_url
        settings.AI_API_KEY = "sk-test-key"
        settings.AI_MODEL = "fake-model"
        settings.AI_TIMEOUT_SECONDS = 5.0
        yield server


if __name__ == "__main__":
    port, scenario = int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "ok"
    with FakeOpenAI(port, Script(scenario=scenario, delay=0.05)) as fake:
        print(f"fake OpenAI-compatible server at {fake.base_url}", flush=True)
        fake.thread.join()
