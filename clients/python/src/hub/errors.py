"""Typed exceptions carrying the hub's error body ({error, error_code, details, ...})."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type


class HubError(Exception):
    """Any failure talking to the hub. `status` is None when no HTTP answer came back."""

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 details: Optional[Dict[str, Any]] = None, body: Any = None,
                 retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details: Dict[str, Any] = details or {}
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.status} " if self.status is not None else ""
        code = f" [{self.code}]" if self.code else ""
        details = f" {self.details}" if self.details else ""
        return f"{where}{self.message}{code}{details}"


class HubConnectionError(HubError):
    """The hub could not be reached (refused, reset, timed out), after every retry."""


class BadRequest(HubError):
    """400: the request was refused; `details` names each field."""


class AuthenticationFailed(HubError):
    """401: missing, bad or expired credentials."""


class PermissionDenied(HubError):
    """403: the key or token may not do this."""


class NotFound(HubError):
    """404."""


class Conflict(HubError):
    """409: the state does not allow it now (a disabled webhook endpoint, a message in flight)."""


class PayloadTooLarge(HubError):
    """413: e.g. more than 1,000 events in one bulk request."""


class RateLimited(HubError):
    """429 after every retry (or a Retry-After longer than the client waits)."""


class ServiceUnavailable(HubError):
    """503 after every retry (e.g. the hub's database is unreachable)."""


class ServerError(HubError):
    """Any other 5xx."""


_BY_STATUS: Mapping[int, Type[HubError]] = {
    400: BadRequest, 401: AuthenticationFailed, 403: PermissionDenied, 404: NotFound, 409: Conflict,
    413: PayloadTooLarge, 429: RateLimited, 503: ServiceUnavailable,
}


def error_for(status: int, body: Any, retry_after: Optional[float] = None) -> HubError:
    """The exception for an HTTP error answer, from the hub's error shape when the body has it."""
    if isinstance(body, dict):
        message = str(body.get("error") or body.get("detail") or body.get("message") or f"HTTP {status}")
        code = body.get("error_code") or body.get("code")
        details = body.get("details") if isinstance(body.get("details"), dict) else None
    else:
        message, code, details = f"HTTP {status}", None, None
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else HubError)
    return kind(message, status=status, code=str(code) if code is not None else None, details=details,
                body=body, retry_after=retry_after)
