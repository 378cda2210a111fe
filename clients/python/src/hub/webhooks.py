"""Webhook signatures of the Standard Webhooks spec, as the hub signs its outbound webhooks:
`webhook-signature: v1,<base64 HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")>`,
several signatures separated by spaces (during a secret rotation), the secret `whsec_<base64>`,
and a timestamp within 5 minutes of now (replays of old deliveries are refused)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Mapping, Optional, Union

TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """A delivery that must not be trusted: a header missing, a stale timestamp, no valid signature."""


class Webhook:
    """verify() a delivery received with this endpoint's secret; sign() one (for tests or relays)."""

    def __init__(self, secret: Union[str, bytes], *, tolerance: int = TOLERANCE_SECONDS) -> None:
        self.key = _secret_bytes(secret)
        self.tolerance = tolerance

    def sign(self, msg_id: str, timestamp: int, body: Union[bytes, str]) -> str:
        """The `webhook-signature` value (one v1 signature) for this delivery."""
        payload = body.encode() if isinstance(body, str) else body
        signed = f"{msg_id}.{int(timestamp)}.".encode() + payload
        return "v1," + base64.b64encode(hmac.new(self.key, signed, hashlib.sha256).digest()).decode()

    def verify(self, body: Union[bytes, str], headers: Mapping[str, str], *, now: Optional[float] = None) -> Any:
        """The delivery's JSON once its signature and timestamp check out; raises
        WebhookVerificationError otherwise. `body` must be the raw bytes as received."""
        lower = {k.lower(): v for k, v in headers.items()}
        msg_id, stamp, signatures = (lower.get(n) for n in ("webhook-id", "webhook-timestamp", "webhook-signature"))
        if not (msg_id and stamp and signatures):
            raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
        try:
            timestamp = int(stamp)
        except ValueError:
            raise WebhookVerificationError("webhook-timestamp is not a Unix time in seconds") from None
        current = time.time() if now is None else now
        if timestamp < current - self.tolerance:
            raise WebhookVerificationError("webhook-timestamp is too old")
        if timestamp > current + self.tolerance:
            raise WebhookVerificationError("webhook-timestamp is in the future")
        expected = base64.b64decode(self.sign(msg_id, timestamp, body)[3:])
        for candidate in signatures.split(" "):
            version, _, encoded = candidate.partition(",")
            if version != "v1":
                continue
            try:
                given = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
            if hmac.compare_digest(expected, given):
                return json.loads(body)
        raise WebhookVerificationError("no matching signature")


def verify(secret: Union[str, bytes], body: Union[bytes, str], headers: Mapping[str, str]) -> Any:
    """Webhook(secret).verify(body, headers)."""
    return Webhook(secret).verify(body, headers)


def _secret_bytes(secret: Union[str, bytes]) -> bytes:
    if isinstance(secret, bytes):
        key = secret
    else:
        encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not key:
        raise ValueError("the webhook secret is empty")
    return key
