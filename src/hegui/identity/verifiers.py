"""Identity match: does this name + document (+ mobile) belong together? Pluggable verifiers.

* ``FormatOnlyVerifier`` (default): accepts what passed the offline checks. It proves nothing about
  the person; evidence reports say so.
* ``HttpVerifier``: asks a two-element (name + ID) or three-element (name + ID + mobile) verification
  service (二要素/三要素核验) speaking this JSON protocol (see docs/identity.md)::

    POST <url>   Authorization: Bearer <token>
    {"request_id": "<uuid>", "elements": 2|3, "name": "…", "id_type": "resident_id", "id_number": "…",
     "mobile": "…"  (three elements only)}
    → 200 {"result": "match" | "mismatch" | "pending", "reference": "…"}
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from hegui.errors import HeguiError

Outcome = Literal["match", "mismatch", "pending"]


class VerifierError(HeguiError):
    """The verification service could not give an answer (nothing was changed)."""


@dataclass(frozen=True, slots=True)
class VerifierResult:
    outcome: Outcome
    method: str  # recorded with the profile, e.g. "offline-format" or "http-3"
    reference: str | None = None


class IdentityVerifier(Protocol):
    def verify(self, name: str, doc_type: str, number: str, mobile: str | None) -> VerifierResult: ...


class FormatOnlyVerifier:
    def verify(self, name: str, doc_type: str, number: str, mobile: str | None) -> VerifierResult:
        return VerifierResult("match", "offline-format")


class HttpVerifier:
    def __init__(self, url: str, token: str | None = None, elements: int = 3, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if elements not in (2, 3):
            raise ValueError("elements must be 2 or 3")
        self.url, self.token, self.elements, self.timeout, self.transport = url, token, elements, timeout, transport

    def verify(self, name: str, doc_type: str, number: str, mobile: str | None) -> VerifierResult:
        body: dict[str, object] = {"request_id": str(uuid.uuid4()), "elements": self.elements, "name": name,
                                   "id_type": doc_type, "id_number": number}
        if self.elements == 3:
            body["mobile"] = mobile
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as c:
                r = c.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as err:
            raise VerifierError(f"identity verification service unreachable ({type(err).__name__})") from None
        try:
            data = r.json()
        except ValueError:
            data = None
        result = data.get("result") if isinstance(data, dict) else None
        if r.status_code != 200 or result not in ("match", "mismatch", "pending"):
            raise VerifierError(f"identity verification service gave no usable answer (HTTP {r.status_code})")
        ref = data.get("reference") if isinstance(data, dict) else None
        return VerifierResult(result, f"http-{self.elements}", str(ref)[:120] if ref is not None else None)
