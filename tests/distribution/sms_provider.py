"""A real HTTP server in a thread playing the SMS provider: it records, dedupes and answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from touchpoints.distribution.sms_webhook import sign


@dataclass
class ProviderRequest:
    """One POST the provider received, and whether its signature was right."""

    headers: dict[str, str]
    payload: dict[str, Any]
    signed: bool


@dataclass
class Answer:
    """How the provider answers the next request: a status, and whether it keeps the SMS."""

    status: int = 200
    # None: keep the SMS on 2xx only; True with a 5xx: took it, then failed to say so.
    keep: bool | None = None
    delay_seconds: float = 0.0

    def keeps(self) -> bool:
        """Tell whether the provider sends the SMS it was given."""
        return 200 <= self.status < 300 if self.keep is None else self.keep


@dataclass
class SmsProviderServer:
    """What the provider received, the messages it delivered (once per reference), its script."""

    url: str
    secret: str
    requests: list[ProviderRequest] = field(default_factory=list)
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)
    script: list[Answer] = field(default_factory=list)

    def answer(self, *answers: Answer) -> None:
        """Queue answers for the next requests (then 200 again)."""
        self.script.extend(answers)


def _handler(provider: SmsProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            timestamp = self.headers.get("X-Touchpoints-Timestamp", "")
            signed = self.headers.get("X-Touchpoints-Signature") == sign(
                provider.secret, timestamp, body
            )
            payload = json.loads(body)
            provider.requests.append(ProviderRequest(dict(self.headers), payload, signed))
            answer = provider.script.pop(0) if provider.script else Answer()
            time.sleep(answer.delay_seconds)
            reference = payload["reference"]
            if answer.keeps():
                # Like real providers, a reference seen before is not sent again.
                provider.delivered.setdefault(reference, payload)
            reply = {"id": f"msg-{reference}"} if answer.status < 300 else {"error": "refused"}
            self._reply(answer.status, reply)

        def _reply(self, status: int, document: dict[str, str]) -> None:
            data = json.dumps(document).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_sms_provider(secret: str) -> Iterator[SmsProviderServer]:
    """Serve the fake provider on 127.0.0.1 and a free port for the duration of the block."""
    provider = SmsProviderServer(url="", secret=secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/messages"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
