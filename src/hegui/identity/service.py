"""Real-name registration and verification (实名认证): register → one-time code → identity match.

States: ``unverified`` (registered, mobile not yet confirmed) → ``pending`` (mobile confirmed,
waiting for the identity match) → ``verified`` or ``rejected``. ``pack.identity.allowed_states``
says which states may use the service.

Personal data is sealed with the key ring (AES-GCM, the user id as associated data so a sealed value
cannot be moved to another row); uniqueness look-ups use keyed hashes. Nothing here logs a name,
document number, mobile number or code (the console SMS sender logs the code on purpose, with the
user id only).
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hegui.audit.log import Exchange, append
from hegui.context import HeguiContext
from hegui.errors import HeguiError, InvalidInputError, NotFoundError
from hegui.identity.accounts import IssuedKey, add_user
from hegui.identity.sms import ConsoleSmsSender, HttpSmsSender, SmsSender
from hegui.identity.verification import check_document, check_mobile, check_name, parse_birth_date
from hegui.identity.verifiers import FormatOnlyVerifier, HttpVerifier, IdentityVerifier
from hegui.store.models.identity import User
from hegui.store.models.verification import IdentityProfile, VerificationCode
from hegui.usage.clock import Clock, utc_now
from hegui.usage.policy import age_on

STATES = ("unverified", "pending", "verified", "rejected")
MAX_CODE_ATTEMPTS = 5
SMS_URL_ENV, SMS_TOKEN_ENV = "HEGUI_SMS_URL", "HEGUI_SMS_TOKEN"
VERIFIER_URL_ENV, VERIFIER_TOKEN_ENV, VERIFIER_ELEMENTS_ENV = (
    "HEGUI_VERIFIER_URL", "HEGUI_VERIFIER_TOKEN", "HEGUI_VERIFIER_ELEMENTS")


class RateLimitedError(HeguiError):
    """Too many code requests; ``retry_at`` says when the next one is allowed."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ConflictError(HeguiError):
    """The request contradicts existing records (duplicate document, wrong state)."""


@dataclass(frozen=True, slots=True)
class IdentityStatus:
    user_id: str
    state: str
    doc_type: str | None
    mobile_verified: bool
    birth_date: date | None
    birth_source: str | None
    method: str | None
    verified_by: str | None
    reason: str | None
    decided_at: datetime | None

    def age(self, today: date) -> int | None:
        return age_on(self.birth_date, today) if self.birth_date is not None else None

    def to_dict(self, today: date | None = None) -> dict[str, Any]:
        return {"user_id": self.user_id, "state": self.state, "document_type": self.doc_type,
                "mobile_verified": self.mobile_verified,
                "age": self.age(today) if today is not None else None, "birth_date_source": self.birth_source,
                "method": self.method, "verified_by": self.verified_by, "reason": self.reason,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None}


@dataclass(frozen=True, slots=True)
class Registration:
    issued: IssuedKey
    status: IdentityStatus


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _status(p: IdentityProfile | None, user_id: str) -> IdentityStatus:
    if p is None:
        return IdentityStatus(user_id, "unverified", None, False, None, None, None, None, None, None)
    return IdentityStatus(user_id, p.state, p.doc_type, p.mobile_verified_at is not None, p.birth_date,
                          p.birth_source, p.method, p.verified_by, p.reason, _aware(p.decided_at))


def default_sender() -> SmsSender:
    url = os.environ.get(SMS_URL_ENV)
    return HttpSmsSender(url, os.environ.get(SMS_TOKEN_ENV)) if url else ConsoleSmsSender()


def default_verifier() -> IdentityVerifier:
    url = os.environ.get(VERIFIER_URL_ENV)
    if not url:
        return FormatOnlyVerifier()
    return HttpVerifier(url, os.environ.get(VERIFIER_TOKEN_ENV), int(os.environ.get(VERIFIER_ELEMENTS_ENV, "3")))


class IdentityService:
    """Registration, codes, identity match, operator attestation; one instance per process."""

    def __init__(self, ctx: HeguiContext, sender: SmsSender | None = None, verifier: IdentityVerifier | None = None,
                 clock: Clock = utc_now) -> None:
        self.ctx, self.db, self.keys, self.policy = ctx, ctx.db, ctx.keys, ctx.pack.identity
        self.sender = sender or default_sender()
        self.verifier = verifier or default_verifier()
        self._clock = clock

    def clock(self) -> datetime:
        """Now, in UTC (SQLite keeps no offsets, so every stored time is UTC)."""
        return self._clock().astimezone(UTC)

    # keyed hashes and sealing ------------------------------------------------------------------------
    def doc_hash(self, doc_type: str, number: str) -> str:
        return self.keys.lookup_hash(f"doc:{doc_type}:{number}")

    def mobile_hash(self, mobile: str) -> str:
        return self.keys.lookup_hash(f"mobile:{mobile}")

    def _seal(self, user_id: str, value: str) -> str:
        return self.keys.encrypt(value, associated=f"identity:{user_id}".encode())

    def _open(self, user_id: str, sealed: str) -> str:
        return self.keys.decrypt(sealed, associated=f"identity:{user_id}".encode())

    def _today(self) -> date:
        from zoneinfo import ZoneInfo

        return self.clock().astimezone(ZoneInfo(self.ctx.pack.minors.timezone)).date()

    def _check_document_free(self, s: Session, doc_hash: str, user_id: str | None) -> None:
        q = select(func.count()).select_from(IdentityProfile).where(
            IdentityProfile.doc_hash == doc_hash, IdentityProfile.state != "rejected")
        if user_id is not None:
            q = q.where(IdentityProfile.user_id != user_id)
        n = s.scalar(q) or 0
        limit = self.policy.accounts_per_document
        if n >= limit:
            raise ConflictError(f"this document already backs {n} account(s); the policy allows {limit} per document")

    # registration ------------------------------------------------------------------------------------
    def register(self, name: str, doc_type: str, doc_number: str, mobile: str,
                 display_name: str | None = None, birth_date: str | None = None) -> Registration:
        """Create an account with its (restricted) API key and record the sealed identity data.

        The key authenticates the next steps (code, agreement); the gateway refuses model calls until
        the account's state is allowed and the current agreement is accepted.
        """
        real_name = check_name(name)
        doc = check_document(doc_type, doc_number, self._today())
        m = check_mobile(mobile)
        label = (display_name or "").strip() or "registered user"
        if len(label) > 200:
            raise InvalidInputError("display name is longer than 200 characters")
        born, source = doc.birth_date, "document" if doc.birth_date else None
        if birth_date and born is None:  # passports and permits carry no birth date in the number
            born, source = parse_birth_date(birth_date, self._today()), "declared"
        dh = self.doc_hash(doc.doc_type, doc.number)
        now = self.clock()
        with self.db.session() as s:
            self._check_document_free(s, dh, None)
            issued = add_user(s, label, "user")
            uid = issued.user_id
            p = IdentityProfile(user_id=uid, state="unverified", name_sealed=self._seal(uid, real_name),
                                doc_type=doc.doc_type, doc_sealed=self._seal(uid, doc.number), doc_hash=dh,
                                mobile_sealed=self._seal(uid, m), mobile_hash=self.mobile_hash(m),
                                birth_date=born, birth_source=source,
                                updated_at=now, created_at=now)
            s.add(p)
            s.flush()
            return Registration(issued, _status(p, uid))

    # one-time codes -----------------------------------------------------------------------------------
    def _code_hash(self, user_id: str, code: str) -> str:
        return self.keys.lookup_hash(f"code:{user_id}:{code}")

    def send_code(self, user_id: str) -> datetime:
        """Send a fresh one-time code to the user's mobile; returns when it expires."""
        now = self.clock()
        with self.db.session() as s:
            p = self._profile(s, user_id)
            if p.mobile_sealed is None or p.mobile_hash is None:
                raise ConflictError(f"user {user_id} has no mobile number on record; register first")
            if p.mobile_verified_at is not None:
                raise ConflictError(f"user {user_id}'s mobile number is already confirmed")
            since = now - timedelta(hours=1)
            recent = list(s.scalars(select(VerificationCode.sent_at).where(
                (VerificationCode.user_id == user_id) | (VerificationCode.mobile_hash == p.mobile_hash),
                VerificationCode.sent_at > since).order_by(VerificationCode.sent_at)))
            limit = self.policy.code_requests_per_hour
            if len(recent) >= limit:
                retry = (_aware(recent[0]) or now) + timedelta(hours=1)
                raise RateLimitedError(f"too many code requests: at most {limit} per hour; "
                                       f"try again after {retry.isoformat(timespec='seconds')}", retry)
            code = f"{secrets.randbelow(1_000_000):06d}"
            ttl = self.policy.code_ttl_seconds
            s.add(VerificationCode(user_id=user_id, mobile_hash=p.mobile_hash, code_hash=self._code_hash(user_id, code),
                                   sent_at=now, expires_at=now + timedelta(seconds=ttl), attempts=0))
            s.flush()
            # Sent inside the transaction: if sending fails, the code row is rolled back too.
            self.sender.send(self._open(user_id, p.mobile_sealed), code, ttl, user_id)
            return now + timedelta(seconds=ttl)

    def confirm_code(self, user_id: str, code: str) -> IdentityStatus:
        """Check the code; on success the mobile is confirmed and the identity match runs."""
        now = self.clock()
        code = (code or "").strip()
        with self.db.session() as s:
            p = self._profile(s, user_id)
            if p.mobile_verified_at is not None:
                raise ConflictError(f"user {user_id}'s mobile number is already confirmed")
            row = s.scalars(select(VerificationCode).where(VerificationCode.user_id == user_id,
                                                           VerificationCode.used_at.is_(None))
                            .order_by(VerificationCode.sent_at.desc(), VerificationCode.id.desc()).limit(1)).first()
            if row is None:
                raise InvalidInputError("no code is outstanding for this user: request one first (send-code)")
            expires = _aware(row.expires_at)
            if expires is not None and now >= expires:
                raise InvalidInputError(f"the code expired at {expires.isoformat(timespec='seconds')}; "
                                        "request a new one")
            if row.attempts >= MAX_CODE_ATTEMPTS:
                raise InvalidInputError(f"too many wrong attempts ({MAX_CODE_ATTEMPTS}) for this code; "
                                        "request a new one")
            if not (code.isdigit() and len(code) == 6) or not secrets.compare_digest(
                    row.code_hash, self._code_hash(user_id, code)):
                row.attempts += 1  # counted even though the answer is an error: brute-force protection
                left = MAX_CODE_ATTEMPTS - row.attempts
                s.commit()
                raise InvalidInputError(f"wrong code ({left} attempt(s) left for this code)")
            row.used_at = now
            p.mobile_verified_at = now
            p.state, p.updated_at = "pending", now
            s.flush()
            name = self._open(user_id, p.name_sealed) if p.name_sealed else ""
            number = self._open(user_id, p.doc_sealed) if p.doc_sealed else ""
            mobile = self._open(user_id, p.mobile_sealed) if p.mobile_sealed else None
            result = self.verifier.verify(name, p.doc_type or "", number, mobile)
            p.method = result.method
            p.verified_by = result.reference
            if result.outcome == "match":
                p.state, p.decided_at, p.reason = "verified", now, None
            elif result.outcome == "mismatch":
                p.state, p.decided_at, p.reason = "rejected", now, "identity elements do not match"
            s.flush()
            return _status(p, user_id)

    # operator decisions -------------------------------------------------------------------------------
    def attest(self, user_id: str, by: str, reason: str, birth_date: date | None = None) -> IdentityStatus:
        """Operator-attested verification (service accounts, tests): who, when, why; written to the audit log."""
        by, reason = (by or "").strip(), (reason or "").strip()
        if not by:
            raise InvalidInputError("an operator-attested verification needs who attests it")
        if not reason:
            raise InvalidInputError("an operator-attested verification needs a reason")
        now = self.clock()
        with self.db.session() as s:
            p = self._profile(s, user_id, create=True)
            p.state, p.method, p.verified_by, p.reason, p.decided_at, p.updated_at = (
                "verified", "operator-attested", by[:200], reason[:400], now, now)
            if birth_date is not None:
                p.birth_date, p.birth_source = birth_date, "operator"
            s.flush()
            status = _status(p, user_id)
        self._audit("identity.attest", user_id, {"by": by, "reason": reason, "state": "verified",
                                                  "birth_date_set": birth_date is not None}, now)
        return status

    def decide(self, user_id: str, verified: bool, by: str, reason: str) -> IdentityStatus:
        """Settle a ``pending`` (or re-decide a rejected) verification by hand; audited."""
        if not (by or "").strip() or not (reason or "").strip():
            raise InvalidInputError("a manual decision needs who decides and a reason")
        now = self.clock()
        with self.db.session() as s:
            p = self._profile(s, user_id)
            if p.state not in ("pending", "rejected") or p.mobile_verified_at is None:
                raise ConflictError(f"user {user_id} is {p.state}; only pending or rejected verifications with a "
                                    "confirmed mobile can be decided")
            if verified and p.doc_hash:
                self._check_document_free(s, p.doc_hash, user_id)
            p.state = "verified" if verified else "rejected"
            p.verified_by, p.reason, p.decided_at, p.updated_at = by[:200], reason[:400], now, now
            p.method = (p.method or "") + "+manual" if p.method and "manual" not in p.method else (p.method or "manual")
            s.flush()
            status = _status(p, user_id)
        self._audit("identity.decide", user_id, {"by": by, "reason": reason, "state": status.state}, now)
        return status

    def set_birth_date(self, user_id: str, born: date, source: str) -> IdentityStatus:
        """Record a birth date declared by a guardian or operator (a document's own date wins)."""
        now = self.clock()
        with self.db.session() as s:
            p = self._profile(s, user_id, create=True)
            if p.birth_source == "document":
                raise ConflictError(f"user {user_id}'s age comes from the verified document and cannot be overridden")
            p.birth_date, p.birth_source, p.updated_at = born, source, now
            s.flush()
            return _status(p, user_id)

    def status(self, user_id: str) -> IdentityStatus:
        with self.db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFoundError(f"no user with id {user_id!r}")
            return _status(s.get(IdentityProfile, user_id), user_id)

    # helpers -------------------------------------------------------------------------------------------
    def _profile(self, s: Session, user_id: str, create: bool = False) -> IdentityProfile:
        if s.get(User, user_id) is None:
            raise NotFoundError(f"no user with id {user_id!r}")
        p = s.get(IdentityProfile, user_id)
        if p is None:
            if not create:
                raise ConflictError(f"user {user_id} has not registered identity data")
            now = self.clock()
            p = IdentityProfile(user_id=user_id, state="unverified", updated_at=now, created_at=now)
            s.add(p)
        return p

    def _audit(self, endpoint: str, user_id: str, content: dict[str, Any], now: datetime) -> None:
        append(self.db, self.keys, [Exchange(record_id=str(uuid.uuid4()), ts=now, endpoint=endpoint, status_code=200,
                                             decision="allow", user_id=user_id, content=content)])
