"""The generic SMS provider: a signed JSON POST to a webhook URL, and signatures both ways."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from touchpoints.config import Settings
from touchpoints.distribution.sms import OutgoingSms, ProviderReceipt, SmsNotSent, SmsProvider

SIGNATURE_HEADER = "X-Touchpoints-Signature"
TIMESTAMP_HEADER = "X-Touchpoints-Timestamp"
SIGNATURE_PREFIX = "sha256="
# 4xx answers that mean "later", not "never".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 409, 425, 429})
MAX_REASON_LENGTH = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature of a body sent at `timestamp` (Unix seconds): sha256=<hex HMAC>."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: a redirected POST would lose its body or go somewhere unsigned."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class WebhookSmsProvider(SmsProvider):
    """POST each message as signed JSON to `TOUCHPOINTS_SMS_WEBHOOK_URL`."""

    def __init__(self, settings: Settings) -> None:
        if not settings.sms_webhook_url or settings.sms_webhook_secret is None:
            raise ValueError(
                "the SMS webhook needs TOUCHPOINTS_SMS_WEBHOOK_URL and "
                "TOUCHPOINTS_SMS_WEBHOOK_SECRET"
            )
        self.url = settings.sms_webhook_url
        self.secret = settings.sms_webhook_secret.get_secret_value()
        self.sender = settings.sms_sender
        self.timeout = settings.sms_webhook_timeout_seconds
        self._opener = urllib.request.build_opener(_NoRedirects)

    def request_body(self, message: OutgoingSms) -> bytes:
        """Return the JSON the provider receives for a message."""
        document: dict[str, str] = {
            "to": message.to,
            "body": message.body,
            "reference": message.reference,
        }
        if message.callback_url:
            document["callback_url"] = message.callback_url
        if self.sender:
            document["sender"] = self.sender
        return json.dumps(document, ensure_ascii=False).encode()

    def send(self, message: OutgoingSms) -> ProviderReceipt:
        """POST the message; 2xx is accepted, 4xx refused for good, 5xx or no answer retryable."""
        body = self.request_body(message)
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Touchpoints-SMS/1",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                "Idempotency-Key": message.reference,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                reply = answer.read(64 * 1024)
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsNotSent(
                f"could not reach the SMS provider at {self.url}: {error}", permanent=False
            ) from error
        return ProviderReceipt(reference=message.reference, provider_message_id=_message_id(reply))

    def _refusal(self, error: urllib.error.HTTPError) -> SmsNotSent:
        detail = error.read(MAX_REASON_LENGTH).decode("utf-8", "replace").strip()
        reason = f"the SMS provider answered {error.code}" + (f": {detail}" if detail else "")
        permanent = 300 <= error.code < 500 and error.code not in RETRYABLE_CLIENT_ERRORS
        return SmsNotSent(reason, permanent=permanent)


def _message_id(reply: bytes) -> str | None:
    """Return the provider's message id from a JSON reply (`id` or `message_id`), if any."""
    try:
        document = json.loads(reply)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    for key in ("message_id", "id"):
        value = document.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)[:200]
    return None
