#!/usr/bin/env python3
"""Writes Sources/RESTBridge/OpenAPI/openapi.json, the OpenAPI 3.1 document of the REST API that
hubd serves at /api/schema/. Edit this file, run it, commit both."""
import json
import os

ERROR = {"$ref": "#/components/schemas/Error"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def body(schema, required=True):
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def answers(ok_status, ok_schema, *errors):
    out = {str(ok_status): {"description": "Success", **({"content": {"application/json": {"schema": ok_schema}}}
                                                       if ok_schema else {})}}
    for status in errors:
        out[str(status)] = {"description": "Error", "content": {"application/json": {"schema": ERROR}}}
    out["429"] = {"description": "Rate limited", "content": {"application/json": {"schema": ERROR}}}
    return out


def path_param(name, schema=None):
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "integer", "minimum": 1}}


def query(name, schema):
    return {"name": name, "in": "query", "required": False, "schema": schema}


USER_AUTH = [{"bearer": []}]
SERVICE = [{"apiKey": []}, {"bearer": []}]
ROOM = {"type": "string", "pattern": "^(khatma|halaka|class|group|course|school|room):[A-Za-z0-9_-]{1,64}$"}
PRIORITY = {"type": "string", "enum": ["LOW", "MEDIUM", "HIGH", "URGENT"]}
LANGUAGE = {"type": "string", "pattern": "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", "maxLength": 35,
            "description": "BCP 47 (uz, ar-MA); templates fall back to the primary language, then en"}
TIME = {"type": ["string", "null"], "format": "date-time"}

schemas = {
    "Error": {"type": "object", "required": ["error", "error_code", "timestamp", "details", "detail", "code", "success",
                                             "message"],
              "properties": {"error": {"type": "string"}, "error_code": {"type": "string"},
                             "timestamp": {"type": "string"}, "details": {"type": "object"},
                             "detail": {"type": "string"}, "code": {"type": "string"},
                             "success": {"type": "boolean", "const": False}, "message": {"type": "string"}}},
    "User": {"type": "object", "properties": {
        "id": {"type": "integer"}, "email": {"type": "string"}, "username": {"type": ["string", "null"]},
        "first_name": {"type": "string"}, "last_name": {"type": "string"}, "full_name": {"type": "string"},
        "fullname": {"type": "string"}, "phone": {"type": ["string", "null"]},
        "role": {"type": "string", "enum": ["ADMIN", "STAFF", "TEACHER", "STUDENT", "PARENT", "DRIVER"]},
        "language": LANGUAGE, "is_active": {"type": "boolean"}, "gender": {"type": ["string", "null"]},
        "permissions": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}}},
    "AccessToken": {"type": "object", "required": ["access"], "properties": {
        "access": {"type": "string"}, "refresh": {"type": "string", "description": "only with HUB_REFRESH_ROTATION=1"}}},
    "Tokens": {"type": "object", "required": ["access", "refresh"], "properties": {
        "access": {"type": "string"}, "refresh": {"type": "string"}, "user": ref("User")}},
    "Register": {"type": "object", "required": ["email", "password"], "properties": {
        "email": {"type": "string", "format": "email"}, "password": {"type": "string", "minLength": 8},
        "username": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
        "full_name": {"type": "string"}, "fullname": {"type": "string"}, "phone": {"type": "string"},
        "role": {"type": "string"}, "language": LANGUAGE, "gender": {"type": "string"},
        "password_confirm": {"type": "string"}, "confirm_password": {"type": "string"}}},
    "Login": {"type": "object", "required": ["password"], "properties": {
        "email": {"type": "string"}, "username": {"type": "string"}, "password": {"type": "string"}}},
    "Notification": {"type": "object", "properties": {
        "id": {"type": "integer"}, "recipient": {"type": ["integer", "null"]}, "notification_type": {"type": "string"},
        "notification_display": {"type": "string"}, "category": {"type": "string"}, "priority": PRIORITY,
        "title": {"type": "string"}, "title_arabic": {"type": "string"}, "title_french": {"type": "string"},
        "message": {"type": "string"}, "message_arabic": {"type": "string"}, "message_french": {"type": "string"},
        "data": {"type": "object"}, "is_read": {"type": "boolean"}, "read_at": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["SENT", "DELIVERED", "READ", "FAILED"]},
        "delivery_method": {"type": "array", "items": {"type": "string"}}, "requires_action": {"type": "boolean"},
        "action_taken": {"type": "boolean"}, "created_at": {"type": "string"}, "is_announcement": {"type": "boolean"},
        "is_seen": {"type": "boolean"}, "seen_at": TIME, "is_archived": {"type": "boolean"}, "archived_at": TIME,
        "snoozed_until": TIME, "expires_at": TIME, "student": {"type": ["integer", "null"]},
        "student_name": {"type": ["string", "null"]}, "auto_generated": {"type": "boolean"},
        "related_khatma": {"type": ["integer", "null"], "description": "khatma types only"},
        "related_khatma_name": {"type": ["string", "null"], "description": "khatma types only"}}},
    "InboxChange": {"type": "object", "required": ["state", "ids", "unread_count", "unseen_count"], "properties": {
        "state": {"type": "string", "enum": ["seen", "archived", "unarchived", "snoozed", "deleted"]},
        "ids": {"type": "array", "items": {"type": "integer"}}, "unread_count": {"type": "integer"},
        "unseen_count": {"type": "integer"}}},
    "NotificationPage": {"type": "object", "required": ["count", "next", "previous", "results", "page_info"], "properties": {
        "count": {"type": "integer"}, "next": {"type": ["string", "null"]}, "previous": {"type": ["string", "null"]},
        "results": {"type": "array", "items": ref("Notification")}, "page_info": {"type": "object", "properties": {
            "current_page": {"type": "integer"}, "total_pages": {"type": "integer"}, "page_size": {"type": "integer"},
            "has_next": {"type": "boolean"}, "has_previous": {"type": "boolean"}}}}},
    "NewNotification": {"type": "object", "required": ["recipient", "notification_type", "title", "message"], "properties": {
        "recipient": {"type": "integer"}, "notification_type": {"type": "string"}, "title": {"type": "string"},
        "message": {"type": "string"}, "priority": PRIORITY, "category": {"type": "string"}, "data": {"type": "object"}}},
    "Event": {"type": "object", "required": ["type"], "description": "Without recipients: for webhooks only", "properties": {
        "type": {"type": "string"}, "data": {"type": "object"}, "priority": PRIORITY,
        "idempotency_key": {"type": "string", "maxLength": 255}, "title": {"type": "string"}, "message": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time",
                       "description": "after it: not listed, counted, pushed or replayed (also read from data.expires_at)"},
        "include_new_users": {"type": "boolean", "description": "an announcement also for accounts created after it"},
        "recipients": {"type": "object", "properties": {
            "users": {"type": "array", "items": {"type": "integer"}}, "rooms": {"type": "array", "items": ROOM},
            "roles": {"type": "array", "items": {"type": "string"}},
            "guardians_of": {"type": "array", "items": {"type": "integer"}}, "all": {"type": "boolean"}}},
        "escalation": {"type": "array", "maxItems": 5, "items": ref("EscalationStep"),
                       "description": "Overrides the catalogue's policy for this event ([] turns it off)."},
        "send_at": {"type": "string", "format": "date-time",
                    "description": "Run the event then (at most 90 days ahead; the past means now): answered "
                                   "202 {scheduled_id, send_at, duplicate}. Not in bulk requests."},
        "cancellation_key": {"type": "string", "maxLength": 255, "description": "With send_at: see /api/v1/events/cancel/"},
        "cancel_if_read": {"type": "integer", "description": "With send_at: dropped if this notification was read by then"}}},
    "EventScheduled": {"type": "object", "properties": {
        "scheduled_id": {"type": "integer"}, "send_at": {"type": "string", "format": "date-time"},
        "duplicate": {"type": "boolean"}}},
    "ScheduledEvents": {"type": "object", "properties": {
        "count": {"type": "integer"}, "results": {"type": "array", "items": {"type": "object", "properties": {
            "scheduled_id": {"type": "integer"}, "type": {"type": "string"},
            "send_at": {"type": "string", "format": "date-time"}, "cancellation_key": {"type": ["string", "null"]},
            "cancel_if_read": {"type": ["integer", "null"]}, "status": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"}}}}}},
    "EscalationStep": {"type": "object", "required": ["after", "channels"], "additionalProperties": False,
                       "description": "Sends on `channels` `after` seconds after the notification was created if "
                                      "`if` still holds then; a channel appears in one step only.", "properties": {
        "after": {"type": "integer", "minimum": 0, "maximum": 604800},
        "channels": {"type": "array", "minItems": 1, "uniqueItems": True,
                     "items": {"type": "string", "enum": ["PUSH", "EMAIL", "SMS", "TELEGRAM"]}},
        "if": {"type": "string", "enum": ["unread", "offline"], "default": "unread"}}},
    "Deliveries": {"type": "object", "properties": {
        "notification_id": {"type": "integer"},
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "channel": {"type": "string"}, "destination": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["PENDING", "SENDING", "DELIVERED", "RETRY", "FAILED", "CANCELLED"]},
            "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
            "provider_id": {"type": ["string", "null"]},
            "available_at": {"type": ["string", "null"], "format": "date-time", "description": "when it is (was) due"},
            "escalation": {"type": ["object", "null"], "properties": {
                "after": {"type": "integer"}, "if": {"type": "string", "enum": ["unread", "offline"]}}}}}}}},
    "EventAccepted": {"type": "object", "properties": {
        "event_id": {"type": "integer"}, "count": {"type": "integer"}, "duplicate": {"type": "boolean"},
        "notification_ids": {"type": "array", "items": {"type": "integer"}}, "deliveries_queued": {"type": "integer"}}},
    "EventBulk": {"type": "object", "required": ["events"], "properties": {
        "events": {"type": "array", "items": ref("Event"), "minItems": 1, "maxItems": 1000}}},
    "EventBulkAccepted": {"type": "object", "properties": {
        "count": {"type": "integer"}, "notifications_sent": {"type": "integer"},
        "results": {"type": "array", "items": ref("EventAccepted")}}},
    "Preferences": {"type": "object", "additionalProperties": {"type": ["boolean", "string", "integer", "null"]}},
    "UserIDs": {"type": "object", "required": ["user_ids"], "properties": {
        "user_ids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}}},
    "IDs": {"type": "object", "required": ["ids"], "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1}}},
    "PushSubscriptionInput": {"type": "object", "required": ["endpoint", "keys"], "properties": {
        "endpoint": {"type": "string", "format": "uri", "maxLength": 2048,
                     "description": "https (http only with HUB_PUSH_ALLOW_HTTP=1)"},
        "expirationTime": {"type": ["integer", "null"]},
        "keys": {"type": "object", "required": ["p256dh", "auth"], "properties": {
            "p256dh": {"type": "string", "description": "base64url of the 65-byte uncompressed P-256 point"},
            "auth": {"type": "string", "description": "base64url of 16 bytes"}}},
        "user_agent": {"type": "string", "maxLength": 512}}},
    "PushSubscription": {"type": "object", "required": ["id", "endpoint", "created_at"], "properties": {
        "id": {"type": "integer"}, "endpoint": {"type": "string"}, "user_agent": {"type": ["string", "null"]},
        "created_at": {"type": "string"}}},
    "PushSubscriptionList": {"type": "object", "required": ["count", "results"], "properties": {
        "count": {"type": "integer"}, "results": {"type": "array", "items": ref("PushSubscription")}}},
    "WebhookEndpointInput": {"type": "object", "required": ["url", "event_types"], "properties": {
        "url": {"type": "string", "maxLength": 2048, "description": "https (http with HUB_WEBHOOK_ALLOW_HTTP); public hosts only"},
        "event_types": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "string", "maxLength": 128},
                        "description": "exact types, a trailing wildcard (notification.*), or *"},
        "description": {"type": "string", "maxLength": 500}, "disabled": {"type": "boolean"}}},
    "WebhookEndpointPatch": {"type": "object", "properties": {
        "url": {"type": "string", "maxLength": 2048}, "event_types": {"type": "array", "items": {"type": "string"}},
        "description": {"type": "string", "maxLength": 500}, "disabled": {"type": "boolean"}}},
    "WebhookEndpoint": {"type": "object", "required": ["id", "url", "event_types", "disabled"], "properties": {
        "id": {"type": "integer"}, "url": {"type": "string"}, "description": {"type": "string"},
        "event_types": {"type": "array", "items": {"type": "string"}}, "disabled": {"type": "boolean"},
        "disabled_reason": {"type": ["string", "null"]}, "failing_since": {"type": ["string", "null"]},
        "previous_secret_expires_at": {"type": ["string", "null"]}, "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "secret": {"type": "string", "description": "whsec_…: only when created and on rotation"}}},
    "WebhookEndpointList": {"type": "object", "required": ["count", "results"], "properties": {
        "count": {"type": "integer"}, "results": {"type": "array", "items": ref("WebhookEndpoint")}}},
    "WebhookQueued": {"type": "object", "required": ["message_id", "webhook_id"], "properties": {
        "message_id": {"type": "integer"}, "webhook_id": {"type": "string"}}},
    "WebhookDeliveries": {"type": "object", "required": ["count", "results"], "properties": {
        "count": {"type": "integer"}, "page": {"type": "integer"}, "page_size": {"type": "integer"},
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "webhook_id": {"type": "string"}, "event_type": {"type": "string"},
            "status": {"type": "string", "enum": ["PENDING", "SENDING", "RETRY", "DELIVERED", "FAILED"]},
            "attempt_count": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
            "next_retry_at": {"type": ["string", "null"]}, "created_at": {"type": "string"}, "payload": {"type": "object"},
            "attempts": {"type": "array", "items": {"type": "object", "properties": {
                "attempted_at": {"type": "string"}, "status_code": {"type": ["integer", "null"]},
                "response": {"type": "string", "description": "the first 1 KiB of the answer"},
                "error": {"type": ["string", "null"]}, "duration_ms": {"type": "integer"},
                "next_retry_at": {"type": ["string", "null"]}}}}}}}}},
    "Health": {"type": "object", "required": ["status", "timestamp", "version", "database"], "properties": {
        "status": {"type": "string"}, "timestamp": {"type": "string"}, "version": {"type": "string"},
        "database": {"type": "string", "enum": ["connected", "unavailable", "not_configured"]},
        "node": {"type": "string", "description": "this node's id (HUB_NODE_ID); with a database"},
        "bus": {"type": "object", "description": "the cross-node bus (docs/bus.md)", "properties": {
            "state": {"type": "string", "enum": ["memory", "starting", "listening", "polling", "disconnected", "stopped"]},
            "listening": {"type": "boolean"}, "lag_ms": {"type": "integer"},
            "messages_in": {"type": "integer"}, "messages_out": {"type": "integer"}}},
        "peers": {"type": "array", "items": {"type": "object", "properties": {
            "node": {"type": "string"}, "address": {"type": ["string", "null"]}, "lease_left_ms": {"type": "integer"},
            "self": {"type": "boolean"}}}}}},
}

paths = {}


def op(path, method, summary, security=None, request=None, params=None, ok=200, ok_schema=None, errors=(400, 401)):
    entry = {"summary": summary, "responses": answers(ok, ok_schema, *errors)}
    if security is not None:
        entry["security"] = security
    if request is not None:
        entry["requestBody"] = request
    if params:
        entry["parameters"] = params
    paths.setdefault(path, {})[method] = entry


op("/api/health/", "get", "Health (Madrasti shape)", security=[], ok_schema=ref("Health"), errors=(503,))
op("/api/schema/", "get", "This document", security=[], ok_schema={"type": "object"}, errors=())
op("/api/v1/auth/register/", "post", "Register", security=[], request=body(ref("Register")), ok=201,
   ok_schema=ref("Tokens"), errors=(400, 403))
op("/api/v1/auth/login/", "post", "Log in by email or username", security=[], request=body(ref("Login")),
   ok_schema=ref("Tokens"))
op("/api/token/", "post", "Log in (simplejwt alias)", security=[], request=body(ref("Login")), ok_schema=ref("Tokens"))
op("/api/v1/auth/refresh/", "post", "A new access token (the refresh token rotates only with HUB_REFRESH_ROTATION=1)",
   security=[], request=body({"type": "object", "required": ["refresh"], "properties": {"refresh": {"type": "string"}}}),
   ok_schema=ref("AccessToken"))
op("/api/v1/auth/verify/", "post", "Verify a token", security=[],
   request=body({"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}),
   ok_schema={"type": "object"})
op("/api/v1/users/me/", "get", "The signed-in user", security=USER_AUTH, ok_schema=ref("User"), errors=(401, 403))
op("/api/v1/users/me/", "patch", "Update the signed-in user", security=USER_AUTH,
   request=body({"type": "object", "properties": {"first_name": {"type": "string"}, "last_name": {"type": "string"},
                                                  "phone": {"type": "string"}, "language": {"type": "string"}}}),
   ok_schema=ref("User"), errors=(400, 401, 403))
op("/api/v1/auth/change-password/", "post", "Change password", security=USER_AUTH,
   request=body({"type": "object", "required": ["old_password", "new_password"], "properties": {
       "old_password": {"type": "string"}, "new_password": {"type": "string"}}}),
   ok_schema={"type": "object"}, errors=(400, 401, 403))
op("/api/users/change-password/", "post", "Change password (Madrasti: letters and digits required)", security=USER_AUTH,
   request=body({"type": "object", "required": ["current_password", "new_password"], "properties": {
       "current_password": {"type": "string"}, "new_password": {"type": "string"},
       "new_password_confirm": {"type": "string"}}}),
   ok_schema={"type": "object"}, errors=(400, 401, 403))
for method in ("get", "put", "patch"):
    op("/api/users/profile/", method, "The signed-in user's profile (Madrasti, the course platform)", security=USER_AUTH,
       request=None if method == "get" else body({"type": "object", "properties": {
           "first_name": {"type": "string"}, "last_name": {"type": "string"}, "phone": {"type": "string"},
           "language": LANGUAGE}}),
       ok_schema=ref("User"), errors=(401, 403) if method == "get" else (400, 401, 403))
list_params = [query("page", {"type": "integer", "minimum": 1}), query("page_size", {"type": "integer", "minimum": 1, "maximum": 100}),
               query("is_read", {"type": "boolean"}), query("notification_type", {"type": "string"}),
               query("category", {"type": "string"}), query("priority", PRIORITY),
               query("created_at__gte", {"type": "string", "format": "date-time"}),
               query("created_at__lte", {"type": "string", "format": "date-time"}), query("search", {"type": "string"}),
               query("ordering", {"type": "string", "enum": ["created_at", "-created_at", "priority", "-priority", "id", "-id"]}),
               query("is_seen", {"type": "boolean"}),
               query("archived", {"type": "boolean", "description": "true: only archived ones (hidden otherwise)"}),
               query("expires_at__gte", {"type": "string", "format": "date-time"})]
op("/api/v1/notifications/", "get", "List notifications", security=USER_AUTH, params=list_params,
   ok_schema=ref("NotificationPage"), errors=(400, 401, 403))
op("/api/v1/notifications/", "post", "Create a notification (staff or service key)", security=SERVICE,
   request=body(ref("NewNotification")), ok=201, ok_schema=ref("Notification"), errors=(400, 401, 403))
op("/api/v1/notifications/unread/", "get", "Unread notifications", security=USER_AUTH, params=list_params[:2],
   ok_schema=ref("NotificationPage"), errors=(400, 401, 403))
op("/api/v1/notifications/unread-count/", "get", "Unread count", security=USER_AUTH, ok_schema={"type": "object"},
   errors=(401, 403))
op("/api/v1/notifications/mark-all-read/", "post", "Mark all read", security=USER_AUTH, ok_schema={"type": "object"},
   errors=(401, 403))
op("/api/v1/notifications/bulk-read/", "post", "Mark several read", security=USER_AUTH, request=body(ref("IDs")),
   ok_schema={"type": "object"}, errors=(400, 401, 403))
op("/api/v1/notifications/{id}/", "get", "One notification", security=USER_AUTH, params=[path_param("id")],
   ok_schema=ref("Notification"), errors=(401, 403, 404))
op("/api/v1/notifications/{id}/read/", "post", "Mark one read", security=USER_AUTH, params=[path_param("id")],
   ok_schema=ref("Notification"), errors=(401, 403, 404))
op("/api/v1/notifications/seen/", "post", "The bell was opened: mark seen", security=USER_AUTH,
   request=body({"type": "object", "properties": {"up_to_id": {"type": "integer", "minimum": 1},
                                                  "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1}}}),
   ok_schema=ref("InboxChange"), errors=(400, 401, 403))
for action, summary in (("archive", "Archive (hidden from lists unless ?archived=true)"), ("unarchive", "Unarchive")):
    op(f"/api/v1/notifications/{{id}}/{action}/", "post", summary, security=USER_AUTH, params=[path_param("id")],
       ok_schema=ref("InboxChange"), errors=(401, 403, 404))
op("/api/v1/notifications/{id}/snooze/", "post", "Snooze until a time (then announced as notification_unsnoozed)",
   security=USER_AUTH, params=[path_param("id")],
   request=body({"type": "object", "required": ["until"], "properties": {"until": {"type": "string", "format": "date-time"}}}),
   ok_schema=ref("InboxChange"), errors=(400, 401, 403, 404))
op("/api/v1/notifications/{id}/", "delete", "Delete for the recipient", security=USER_AUTH, params=[path_param("id")],
   ok=204, errors=(401, 403, 404))
op("/api/v1/notifications/{id}/", "patch", "Record action_taken (recipient or staff; Madrasti)", security=USER_AUTH,
   params=[path_param("id")],
   request=body({"type": "object", "required": ["action_taken"], "properties": {"action_taken": {"type": "boolean"}}}),
   ok_schema=ref("Notification"), errors=(400, 401, 403, 404))
op("/api/v1/notifications/{id}/deliveries/", "get", "Deliveries per channel", security=USER_AUTH,
   params=[path_param("id")], ok_schema=ref("Deliveries"), errors=(401, 403, 404))
op("/api/v1/notifications/preferences/me/", "get", "Preferences", security=USER_AUTH, ok_schema=ref("Preferences"),
   errors=(401, 403))
op("/api/v1/notifications/preferences/me/", "patch", "Update preferences", security=USER_AUTH,
   request=body(ref("Preferences")), ok_schema=ref("Preferences"), errors=(400, 401, 403))
op("/api/v1/notifications/preferences/me/", "put", "Replace preferences", security=USER_AUTH,
   request=body(ref("Preferences")), ok_schema=ref("Preferences"), errors=(400, 401, 403))
op("/api/v1/events/", "post", "Post a domain event (service key or staff); with send_at, schedule it",
   security=SERVICE, request=body(ref("Event")), ok=202,
   ok_schema={"oneOf": [ref("EventAccepted"), ref("EventScheduled")]}, errors=(400, 401, 403))
op("/api/v1/events/cancel/", "post", "Cancel every pending scheduled event with a key (service key or staff)",
   security=SERVICE, request=body({"type": "object", "required": ["cancellation_key"], "properties": {
       "cancellation_key": {"type": "string", "maxLength": 255}}}),
   ok_schema={"type": "object", "properties": {"cancelled": {"type": "integer"},
                                               "reminders_stopped": {"type": "integer"}}}, errors=(400, 401, 403))
REMINDER_INPUT = {"type": "object", "required": ["type", "recipients", "rule"], "description":
                  "An event as POST /api/v1/events/ takes it, plus its rule; each occurrence adds `date` and `time` "
                  "to its data.", "properties": {
    "type": {"type": "string"}, "recipients": {"type": "object"}, "data": {"type": "object"},
    "title": {"type": "string"}, "message": {"type": "string"}, "priority": PRIORITY,
    "cancellation_key": {"type": "string", "maxLength": 255},
    "rule": {"oneOf": [
        {"type": "object", "required": ["daily"], "properties": {
            "daily": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$"},
            "timezone": {"type": "string"}}},
        {"type": "object", "required": ["weekly"], "properties": {
            "weekly": {"type": "object", "required": ["days", "at"], "properties": {
                "days": {"type": "array", "items": {"type": "string"}, "minItems": 1}, "at": {"type": "string"}}},
            "timezone": {"type": "string"}}},
        {"type": "object", "required": ["frequency", "startTime", "duration", "startDate", "endDate"],
         "description": "Halaka's schedule object, as is", "properties": {
            "frequency": {"type": "string", "enum": ["weekly", "daily"]},
            "days": {"type": "array", "items": {"type": "string"}}, "startTime": {"type": "string"},
            "duration": {"type": "integer", "minimum": 1}, "startDate": {"type": "string"},
            "endDate": {"type": "string"}, "timezone": {"type": "string"},
            "before_minutes": {"type": "integer", "minimum": 0}}}]}}}
REMINDER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "type": {"type": "string"}, "event": {"type": "object"}, "rule": {"type": "object"},
    "cancellation_key": {"type": ["string", "null"]},
    "skipped": {"type": "array", "items": {"type": "object", "properties": {
        "date": {"type": "string", "format": "date"}, "reason": {"type": "string"}}}},
    "end_date": {"type": ["string", "null"], "format": "date"},
    "next_at": {"type": ["string", "null"], "format": "date-time"}, "active": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"}}}
REMINDER_ID = [path_param("id")]
op("/api/v1/reminders/", "post", "Create a recurring reminder (service key or staff)", security=SERVICE,
   request=body(REMINDER_INPUT), ok=201, ok_schema=REMINDER, errors=(400, 401, 403))
op("/api/v1/reminders/", "get", "Reminders, newest first (service key or staff)", security=SERVICE,
   ok_schema={"type": "object", "properties": {"count": {"type": "integer"},
                                               "results": {"type": "array", "items": REMINDER}}}, errors=(401, 403))
op("/api/v1/reminders/{id}/", "get", "One reminder", security=SERVICE, params=REMINDER_ID, ok_schema=REMINDER,
   errors=(401, 403, 404))
op("/api/v1/reminders/{id}/", "patch", "Change a reminder (any field; `active`)", security=SERVICE, params=REMINDER_ID,
   request=body({"type": "object"}), ok_schema=REMINDER, errors=(400, 401, 403, 404))
op("/api/v1/reminders/{id}/", "delete", "Delete a reminder", security=SERVICE, params=REMINDER_ID, ok=204,
   errors=(401, 403, 404))
op("/api/v1/reminders/{id}/skip/", "post", "Skip one date (Halaka's cancel-session: sessionDate, reason)",
   security=SERVICE, params=REMINDER_ID, request=body({"type": "object", "properties": {
       "date": {"type": "string"}, "sessionDate": {"type": "string"}, "reason": {"type": "string"}}}),
   ok_schema=REMINDER, errors=(400, 401, 403, 404))
op("/api/v1/reminders/{id}/unskip/", "post", "Restore a skipped date (Halaka's restore-session)", security=SERVICE,
   params=REMINDER_ID, request=body({"type": "object", "properties": {
       "date": {"type": "string"}, "sessionDate": {"type": "string"}}}),
   ok_schema=REMINDER, errors=(400, 401, 403, 404))
ADMIN_ROW = {"type": "object"}
op("/api/v1/admin/overview/", "get", "Operator console: nodes, sessions, online users, busiest rooms, outbox (staff)",
   security=SERVICE, ok_schema={"type": "object", "properties": {
       "nodes": {"type": "array", "items": {"type": "object", "properties": {
           "id": {"type": "string"}, "version": {"type": "string"}, "sessions": {"type": "integer"},
           "connections": {"type": "integer"}}}},
       "sessions": {"type": "integer"}, "online_users": {"type": "integer"},
       "busiest_users": {"type": "array", "items": ADMIN_ROW}, "busiest_rooms": {"type": "array", "items": ADMIN_ROW},
       "outbox": {"type": "array", "items": {"type": "object", "properties": {
           "channel": {"type": "string"}, "due": {"type": "integer"}, "later": {"type": "integer"},
           "failed": {"type": "integer"}}}}}}, errors=(401, 403))
op("/api/v1/admin/deliveries/", "get", "Deliveries by status, newest first (staff)", security=SERVICE,
   params=[{"name": "status", "in": "query", "required": False, "schema": {
       "type": "string", "enum": ["FAILED", "CANCELLED", "PENDING", "RETRY", "SENDING", "DELIVERED"], "default": "FAILED"}}],
   ok_schema={"type": "object", "properties": {"count": {"type": "integer"},
                                               "results": {"type": "array", "items": ADMIN_ROW}}}, errors=(400, 401, 403))
op("/api/v1/admin/deliveries/{id}/retry/", "post", "Retry a failed or cancelled delivery now (staff)", security=SERVICE,
   params=[path_param("id")], ok_schema=ADMIN_ROW, errors=(401, 403, 404, 409))
op("/api/v1/admin/deliveries/{id}/cancel/", "post", "Cancel a delivery not yet sent (staff)", security=SERVICE,
   params=[path_param("id")], ok_schema=ADMIN_ROW, errors=(401, 403, 404, 409))
op("/api/v1/admin/events/", "get", "The last events with their fan-out counts (staff)", security=SERVICE,
   ok_schema={"type": "object", "properties": {"count": {"type": "integer"},
                                               "results": {"type": "array", "items": ADMIN_ROW}}}, errors=(401, 403))
op("/api/v1/events/scheduled/", "get", "Pending scheduled events, soonest first (service key or staff)",
   security=SERVICE, params=[{"name": "cancellation_key", "in": "query", "required": False,
                              "schema": {"type": "string", "maxLength": 255}}],
   ok_schema=ref("ScheduledEvents"), errors=(400, 401, 403))
op("/api/v1/events/bulk/", "post", "Post up to 1,000 events in one transaction (service key or staff)", security=SERVICE,
   request=body(ref("EventBulk")), ok=202, ok_schema=ref("EventBulkAccepted"), errors=(400, 401, 403, 413))
op("/api/v1/rooms/{room}/members/", "get", "Room members", security=SERVICE, params=[path_param("room", ROOM)],
   ok_schema={"type": "object"}, errors=(400, 401, 403))
op("/api/v1/rooms/{room}/members/", "post", "Add room members", security=SERVICE, params=[path_param("room", ROOM)],
   request=body(ref("UserIDs")), ok=201, ok_schema={"type": "object"}, errors=(400, 401, 403))
op("/api/v1/rooms/{room}/members/{user_id}/", "delete", "Remove a member", security=SERVICE,
   params=[path_param("room", ROOM), path_param("user_id")], ok=204, errors=(400, 401, 403, 404))
op("/api/v1/users/{student_id}/guardians/", "get", "A student's guardians", security=SERVICE,
   params=[path_param("student_id")], ok_schema={"type": "object"}, errors=(401, 403, 404))
op("/api/v1/users/{student_id}/guardians/", "post", "Link a guardian", security=SERVICE, params=[path_param("student_id")],
   request=body({"type": "object", "required": ["parent"], "properties": {"parent": {"type": "integer"}}}),
   ok=201, ok_schema={"type": "object"}, errors=(400, 401, 403, 404))
op("/api/v1/users/{student_id}/guardians/{parent_id}/", "delete", "Unlink a guardian", security=SERVICE,
   params=[path_param("student_id"), path_param("parent_id")], ok=204, errors=(401, 403, 404))
op("/api/v1/users/me/children/", "get", "A parent's children", security=USER_AUTH, ok_schema={"type": "object"},
   errors=(401, 403))
op("/api/v1/push/vapid-public-key/", "get", "The VAPID public key (base64url, uncompressed P-256 point)", security=[],
   ok_schema={"type": "object", "required": ["public_key"],
              "properties": {"public_key": {"type": ["string", "null"], "description": "null: push is off on this hub"}}},
   errors=())
op("/api/v1/push/subscriptions/", "post", "Save a browser's PushSubscription.toJSON() (201 new, 200 same endpoint)",
   security=USER_AUTH, request=body(ref("PushSubscriptionInput")), ok=201, ok_schema=ref("PushSubscription"),
   errors=(400, 401, 404))
op("/api/v1/push/subscriptions/", "get", "The caller's push subscriptions", security=USER_AUTH,
   ok_schema=ref("PushSubscriptionList"), errors=(401,))
op("/api/v1/push/subscriptions/{id}/", "delete", "Delete one of the caller's push subscriptions", security=USER_AUTH,
   params=[path_param("id")], ok=204, errors=(401, 404))
op("/api/v1/presence/users/{id}/", "get", "One user's presence", security=SERVICE, params=[path_param("id")],
   ok_schema={"type": "object"}, errors=(401, 403, 404))
op("/api/v1/presence/query/", "post", "Presence of many users", security=SERVICE, request=body(ref("UserIDs")),
   ok_schema={"type": "object"}, errors=(400, 401, 403))
op("/api/v1/presence/rooms/{room}/", "get", "Online members of a room", security=SERVICE,
   params=[path_param("room", ROOM)], ok_schema={"type": "object"}, errors=(400, 401, 403))
WEBHOOK_ENDPOINT = "/api/v1/webhooks/endpoints/{id}/"
op("/api/v1/webhooks/endpoints/", "post", "Register a webhook endpoint (the answer carries its secret, shown once)",
   security=SERVICE, request=body(ref("WebhookEndpointInput")), ok=201, ok_schema=ref("WebhookEndpoint"),
   errors=(400, 401, 403))
op("/api/v1/webhooks/endpoints/", "get", "Webhook endpoints", security=SERVICE, ok_schema=ref("WebhookEndpointList"),
   errors=(401, 403))
op(WEBHOOK_ENDPOINT, "get", "One webhook endpoint", security=SERVICE, params=[path_param("id")],
   ok_schema=ref("WebhookEndpoint"), errors=(401, 403, 404))
op(WEBHOOK_ENDPOINT, "patch", "Change a webhook endpoint (enabling it again clears its failures)", security=SERVICE,
   params=[path_param("id")], request=body(ref("WebhookEndpointPatch")), ok_schema=ref("WebhookEndpoint"),
   errors=(400, 401, 403, 404))
op(WEBHOOK_ENDPOINT, "delete", "Delete a webhook endpoint and its messages", security=SERVICE, params=[path_param("id")],
   ok=204, errors=(401, 403, 404))
op(WEBHOOK_ENDPOINT + "rotate-secret/", "post", "A new secret; the old one keeps signing beside it for 24 h",
   security=SERVICE, params=[path_param("id")], ok_schema=ref("WebhookEndpoint"), errors=(401, 403, 404))
op(WEBHOOK_ENDPOINT + "test/", "post", "Send a webhook.test message", security=SERVICE, params=[path_param("id")],
   ok=202, ok_schema=ref("WebhookQueued"), errors=(401, 403, 404, 409))
op(WEBHOOK_ENDPOINT + "recover/", "post", "Send again every failed message since a time", security=SERVICE,
   params=[path_param("id")], request=body({"type": "object", "required": ["since"], "properties": {
       "since": {"type": "string", "description": "ISO-8601 date or time"}}}), ok=202,
   ok_schema={"type": "object", "properties": {"queued": {"type": "integer"}}}, errors=(400, 401, 403, 404, 409))
op(WEBHOOK_ENDPOINT + "deliveries/", "get", "The delivery log: messages, newest first, each with its attempts",
   security=SERVICE, params=[path_param("id"), query("page", {"type": "integer", "minimum": 1}),
                             query("page_size", {"type": "integer", "minimum": 1, "maximum": 100}),
                             query("status", {"type": "string", "enum": ["PENDING", "SENDING", "RETRY", "DELIVERED", "FAILED"]})],
   ok_schema=ref("WebhookDeliveries"), errors=(400, 401, 403, 404))
op("/api/v1/webhooks/messages/{id}/replay/", "post", "Send a message again, with the same webhook-id", security=SERVICE,
   params=[path_param("id")], ok=202, ok_schema=ref("WebhookQueued"), errors=(401, 403, 404, 409))

document = {
    "openapi": "3.1.0",
    "info": {"title": "hub: notifications and presence", "version": "0.2.0",
             "description": "REST API of the hub. WebSocket channel: /ws/notifications/ (see README)."},
    "servers": [{"url": "/"}],
    "security": USER_AUTH,
    "paths": paths,
    "components": {"schemas": schemas, "securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                   "description": "Api-Key <key> (platform backends)"}}},
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "RESTBridge", "OpenAPI", "openapi.json")
with open(out, "w") as handle:
    json.dump(document, handle, ensure_ascii=False, indent=1)
    handle.write("\n")
print(f"wrote {out}: {len(paths)} paths")
