"""Sending one-time codes: pluggable senders.

* ``ConsoleSmsSender`` (default): writes the code to the operator log (and optionally a console
  stream) with the user id only, never the phone number. For development and small installations
  where an operator relays codes.
* ``HttpSmsSender``: posts to an SMS gateway speaking this JSON protocol (see docs/identity.md)::

    POST <url>   Authorization: Bearer <token>   Content-Type: application/json
    {"to": "+8613800138000", "template": "hegui-verification",
     "params": {"code": "123456", "ttl_minutes": 5}, "request_id": "<uuid>"}
    → 2xx {"ok": true, "message_id": "…"}    anything else: the send failed
"""

from __future__ import annotations

import logging
import uuid
from typing import Protocol, TextIO

import httpx

from hegui.errors import HeguiError

log = logging.getLogger("hegui.identity.sms")


class SmsError(HeguiError):
    """The code could not be sent (the message never contains the phone number)."""


class SmsSender(Protocol):
    name: str

    def send(self, mobile: str, code: str, ttl_seconds: int, user_id: str) -> None: ...


class ConsoleSmsSender:
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, mobile: str, code: str, ttl_seconds: int, user_id: str) -> None:
        line = f"one-time code for user {user_id}: {code} (valid {ttl_seconds // 60} min)"
        log.warning(line)
        if self.stream is not None:
            print(line, file=self.stream, flush=True)


class HttpSmsSender:
    name = "http"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url, self.token, self.timeout, self.transport = url, token, timeout, transport

    def send(self, mobile: str, code: str, ttl_seconds: int, user_id: str) -> None:
        body = {"to": "+86" + mobile, "template": "hegui-verification",
                "params": {"code": code, "ttl_minutes": max(1, ttl_seconds // 60)}, "request_id": str(uuid.uuid4())}
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as c:
                r = c.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as err:
            raise SmsError(f"SMS gateway unreachable ({type(err).__name__}); no code was sent") from None
        ok = False
        try:
            ok = r.is_success and bool(r.json().get("ok"))
        except ValueError:
            ok = False
        if not ok:
            raise SmsError(f"SMS gateway refused the message (HTTP {r.status_code}); no code was sent")
        log.info("one-time code for user %s sent through the SMS gateway", user_id)
