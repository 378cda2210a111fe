"""Python client of the notification hub. `hub.django` adds the Django integration."""
from .client import Hub
from .errors import (AuthenticationFailed, BadRequest, Conflict, HubConnectionError, HubError, NotFound,
                     PayloadTooLarge, PermissionDenied, RateLimited, ServerError, ServiceUnavailable)
from .events import BulkAccepted, Event, EventAccepted, EventScheduled, Recipients, event
from .transport import RetryPolicy
from .webhooks import Webhook, WebhookVerificationError

__all__ = ["Hub", "event", "Event", "EventAccepted", "EventScheduled", "BulkAccepted", "Recipients", "RetryPolicy",
           "Webhook", "WebhookVerificationError", "HubError", "HubConnectionError", "BadRequest",
           "AuthenticationFailed", "PermissionDenied", "NotFound", "Conflict", "PayloadTooLarge", "RateLimited",
           "ServiceUnavailable", "ServerError"]
__version__ = "0.1.0"
