"""Telling a complainant or requester the outcome: operator log (default), HTTP gateway, or SMTP.

The log adapter never writes the recipient in clear (only a masked form), so the operator log
holds no contact data. The HTTP adapter POSTs ``{channel, to, subject, body}`` as JSON to an
operator's email/SMS gateway; the SMTP adapter sends mail directly.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal, Protocol

import httpx

from hegui.config import NotifyConfig
from hegui.errors import ConfigError, HeguiError

log = logging.getLogger("hegui.notify")

Channel = Literal["email", "sms"]


class NotifyError(HeguiError):
    """A notification could not be delivered; the case records the failure and can be retried."""


@dataclass(frozen=True, slots=True)
class Message:
    channel: Channel
    to: str
    subject: str
    body: str


class Notifier(Protocol):
    name: str

    def send(self, msg: Message) -> None: ...


def mask_recipient(to: str) -> str:
    """``a***@example.com`` / ``138****5678``: enough for an operator to tell messages apart."""
    if "@" in to:
        local, _, domain = to.partition("@")
        return f"{local[:1]}***@{domain}"
    return to[:3] + "****" + to[-4:] if len(to) > 7 else "****"


class LogNotifier:
    """Default: the message goes to the operator log, who forwards it by hand."""

    name = "log"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, msg: Message) -> None:
        self.sent.append(msg)
        log.warning("notification (%s to %s): %s — %s", msg.channel, mask_recipient(msg.to), msg.subject, msg.body)


class HttpNotifier:
    """POST the message as JSON to an operator's email/SMS gateway; any non-2xx answer is a failure."""

    name = "http"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"notify.url: must be an http:// or https:// URL, got {url!r}")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, msg: Message) -> None:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            r = httpx.post(self.url, json={"channel": msg.channel, "to": msg.to, "subject": msg.subject,
                                           "body": msg.body}, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as err:
            raise NotifyError(f"notification gateway unreachable ({type(err).__name__})") from None
        if not 200 <= r.status_code < 300:
            raise NotifyError(f"notification gateway answered HTTP {r.status_code}")


class SmtpNotifier:
    """Send e-mail through an SMTP relay (SMS needs the HTTP adapter)."""

    name = "smtp"

    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, msg: Message) -> None:
        if msg.channel != "email":
            raise NotifyError("the smtp adapter sends e-mail only; configure notify.adapter: http for SMS")
        em = EmailMessage()
        em["From"], em["To"], em["Subject"] = self.sender, msg.to, msg.subject
        em.set_content(msg.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.send_message(em)
        except (OSError, smtplib.SMTPException) as err:
            raise NotifyError(f"SMTP relay failed ({type(err).__name__})") from None


def notifier_from_config(cfg: NotifyConfig) -> Notifier:
    if cfg.adapter == "http":
        if not cfg.url:
            raise ConfigError("notify.url is required with notify.adapter: http")
        return HttpNotifier(cfg.url, cfg.token)
    if cfg.adapter == "smtp":
        if not cfg.smtp_host:
            raise ConfigError("notify.smtp_host is required with notify.adapter: smtp")
        return SmtpNotifier(cfg.smtp_host, cfg.smtp_port, cfg.smtp_sender)
    return LogNotifier()
