"""HTTP with retries: exponential back-off with jitter on 429 (honouring Retry-After), 503 and
connection errors. The caller's body is sent unchanged on every attempt, so an event's
idempotency key stays the same across its retries and the hub stores it once."""
from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Tuple, Union

import requests
from urllib3.exceptions import NewConnectionError

from .errors import HubConnectionError, HubError, error_for

Timeout = Union[float, Tuple[float, float]]


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try. The n-th retry waits between half and all of
    min(max_delay, base_delay * 2**n) ("equal jitter"), or Retry-After when the hub sends it;
    a Retry-After longer than `max_retry_after` is not waited for (RateLimited is raised)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def backoff(self, retry: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** retry)
        return ceiling / 2 + random.random() * ceiling / 2


# 429 and 503 mean the hub did not do it; 502/504 come from a proxy and may hide a request that
# was done, so only requests that are safe to repeat retry them.
ALWAYS_RETRIED = frozenset({429, 503})
RETRIED_WHEN_REPLAYABLE = frozenset({502, 504})


class Transport:
    def __init__(self, base_url: str, authorization: str, *, timeout: Timeout = (5.0, 30.0),
                 retry: RetryPolicy = RetryPolicy(), session: Optional[requests.Session] = None,
                 sleep: Callable[[float], None] = time.sleep, user_agent: str = "hub-sdk-python") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self.session = session or requests.Session()
        self.sleep = sleep
        self.headers = {"Authorization": authorization, "Accept": "application/json", "User-Agent": user_agent}

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, path: str, *, body: Any = None,
                params: Optional[Mapping[str, Any]] = None, replayable: bool = True) -> Any:
        """The parsed JSON answer (None for 204). `replayable`: doing it twice is harmless (reads,
        deletes, events with their idempotency key), so a request that may have reached the hub
        before the connection failed is sent again; otherwise only one that surely did not is."""
        url = self.base_url + path
        last: Optional[HubError] = None
        for attempt in range(self.retry.attempts):
            if attempt:
                wait = self.retry.backoff(attempt - 1)
                if last is not None and last.retry_after is not None:
                    wait = last.retry_after
                self.sleep(wait)
            try:
                response = self.session.request(method, url, json=body, params=params,
                                                headers=self.headers, timeout=self.timeout)
            except requests.RequestException as error:
                last = HubConnectionError(f"{method} {path}: {error}")
                if replayable or _never_sent(error):
                    continue
                raise last from error
            if response.status_code < 400:
                return None if response.status_code == 204 or not response.content else response.json()
            last = error_for(response.status_code, _json_or_text(response), _retry_after(response))
            retried = response.status_code in ALWAYS_RETRIED or (
                replayable and response.status_code in RETRIED_WHEN_REPLAYABLE)
            if not retried:
                raise last
            if last.retry_after is not None and last.retry_after > self.retry.max_retry_after:
                raise last
        assert last is not None
        raise last


def _never_sent(error: requests.RequestException) -> bool:
    """True when the connection was never made, so the hub cannot have seen the request."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)  # refused, unreachable, or the name did not resolve


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _retry_after(response: requests.Response) -> Optional[float]:
    """Retry-After in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())

