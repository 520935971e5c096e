"""The request pipeline, as small named steps the route handlers call in order:

identify → usage → moderate input → upstream → moderate output → label → audit

Every step is a method here; route handlers only pick the steps. No policy lives here either:
actions come from the moderation engine's ``Decision`` (i.e. from the policy pack).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError

from hegui.audit.log import Exchange
from hegui.audit.writer import AuditWriter
from hegui.context import HeguiContext
from hegui.detect.base import Direction
from hegui.detect.pii.masking import PiiTokenizer
from hegui.gateway.errors import ApiError, db_unavailable, unauthorized
from hegui.gateway.labels import apply_label, label_text, language_of
from hegui.gateway.metrics import Metrics
from hegui.gateway.ratelimit import RateLimiter, rate_limited
from hegui.gateway.upstream import Upstream, UpstreamPool, UpstreamStream, upstream_failed
from hegui.identity.accounts import Principal, authenticate, hash_key
from hegui.moderation import ModerationContext, ModerationEngine, StreamModerator
from hegui.moderation.decision import Decision, Language
from hegui.policy.pack import ACTION_ORDER
from hegui.privacy.egress import EgressDenied, check_destination
from hegui.store.db import DatabaseUnavailable

log = logging.getLogger("hegui.gateway")

REFUSING = frozenset({"refuse", "block"})
KEY_CACHE_SECONDS = 2.0
"""A valid key is looked up again after this long: a key disabled or rotated in another process
stops working within it (at once in the process that did it). Invalid keys are never cached."""
KEY_CACHE_MAX = 10_000


UsageCheck = Callable[["ExchangeState"], None]
"""A usage step (anti-addiction, curfew, quotas): raise ``ApiError`` to stop the request."""


def _never(_st: ExchangeState) -> bool:
    return False


def _cats(decision: Decision) -> list[str]:
    return sorted({str(c) for c in (decision.categories or [])})


def stronger(a: str, b: str) -> str:
    return a if ACTION_ORDER.index(a) >= ACTION_ORDER.index(b) else b


@dataclass
class ExchangeState:
    """Everything one exchange accumulates on its way through the steps; becomes its audit record."""

    endpoint: str
    client_ip: str | None
    client_port: int | None
    record_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    t0: float = field(default_factory=time.perf_counter)
    principal: Principal | None = None
    model: str | None = None
    upstream: str | None = None
    stream: bool = False
    status: int = 200
    error: str | None = None
    action: str = "allow"
    categories: set[str] = field(default_factory=set)
    upstream_s: float = 0.0
    moderation_s: float = 0.0
    request_content: Any = None
    answer: str | None = None
    answer_tool_calls: dict[str, Any] | None = None  # tool calls (and legacy function_call) that went out
    lang: Language = "en"
    minor: bool = False
    tokenizer: PiiTokenizer | None = None
    input_decision: dict[str, Any] | None = None
    output_decision: dict[str, Any] | None = None
    tool_decisions: list[dict[str, Any]] = field(default_factory=list)  # tool results in, tool-call arguments out
    extra_headers: dict[str, str] = field(default_factory=dict)  # e.g. x-hegui-notice from the usage step
    withheld: set[str] = field(default_factory=set)  # answer fields hegui does not check, so never released

    def note(self, decision: Decision) -> None:
        self.action = stronger(self.action, decision.action)
        self.categories.update(_cats(decision))

    def fail(self, err: ApiError) -> None:
        self.status, self.error = err.status, f"{err.code or err.type}: {err.message}"[:400]

    def headers(self) -> dict[str, str]:
        h = {"x-hegui-decision": self.action, "x-hegui-request-id": self.record_id}
        if self.categories:
            h["x-hegui-categories"] = ",".join(sorted(self.categories))
        h.update(self.extra_headers)
        return h

    def to_exchange(self) -> Exchange:
        total = time.perf_counter() - self.t0
        p = self.principal
        return Exchange(
            record_id=self.record_id, ts=self.ts, endpoint=self.endpoint, status_code=self.status,
            decision=self.action, user_id=p.user_id if p else None, key_id=p.key_id if p else None,
            client_ip=self.client_ip, client_port=self.client_port, model=self.model, upstream=self.upstream,
            categories=sorted(self.categories), stream=self.stream, error=self.error,
            total_us=int(total * 1e6), upstream_us=int(self.upstream_s * 1e6),
            moderation_us=int(self.moderation_s * 1e6),
            content={"request": self.request_content, "answer": self.answer,
                     **({"tool_calls": self.answer_tool_calls} if self.answer_tool_calls else {}),
                     "input_decision": self.input_decision, "output_decision": self.output_decision,
                     **({"tool_decisions": self.tool_decisions} if self.tool_decisions else {}),
                     **({"withheld_fields": sorted(self.withheld)} if self.withheld else {})},
        )


def sse(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"

# The fields of an answer message (or stream delta) that are released: the ones hegui moderates. Anything
# else a server adds (``reasoning_content`` of reasoning models, ``refusal``, ``audio`` transcripts,
# ``annotations``) is generated content hegui does not check, so it is withheld (fail closed) and its
# name recorded in the audit record.
RELEASED_ANSWER_FIELDS = frozenset({"role", "content", "tool_calls", "function_call"})


def released_fields(st: ExchangeState, message: dict[str, Any]) -> dict[str, Any]:
    """``message`` without the fields hegui does not moderate (their names go to ``st.withheld``)."""
    extra = [k for k, v in message.items() if k not in RELEASED_ANSWER_FIELDS and v not in (None, "", [], {})]
    if not extra:
        return message
    st.withheld.update(extra)
    return {k: v for k, v in message.items() if k in RELEASED_ANSWER_FIELDS}


class Gateway:
    """The services one gateway process holds, and the pipeline steps that use them."""

    def __init__(self, ctx: HeguiContext, pool: UpstreamPool, engine: ModerationEngine, writer: AuditWriter,
                 metrics: Metrics, usage_checks: Sequence[UsageCheck] = ()) -> None:
        self.ctx, self.pool, self.engine, self.writer, self.metrics = ctx, pool, engine, writer, metrics
        self.usage_checks = list(usage_checks)
        self._key_cache: dict[str, tuple[float, Principal]] = {}
        self.pack = ctx.pack
        self.max_body = ctx.settings.gateway.max_body_bytes
        self.text_label = ctx.settings.gateway.text_label

    rate_limiter: RateLimiter | None = None
    """Per-key request rate, set by the app (``hegui.gateway.ratelimit.limiter_for``); None = off."""

    after_refusal: Callable[[ExchangeState], Awaitable[None]] | None = None
    """Set by the cases domain: opens incidents and counts violations once a refusal is audited."""

    # 0. the exchange -----------------------------------------------------------------------------
    @staticmethod
    def begin(request: Request, endpoint: str) -> ExchangeState:
        client = request.client
        return ExchangeState(endpoint, client.host if client else None, client.port if client else None)

    # 1. identity -----------------------------------------------------------------------------------
    async def identify(self, request: Request, st: ExchangeState) -> Principal:
        """The user behind the bearer key, within its request rate (429); before any other work."""
        principal = await self.identify_key(request, st)
        if self.rate_limiter is not None and not getattr(request.state, "hegui_throttled", False):
            request.state.hegui_throttled = True  # one request costs one token, however many steps identify it
            await self.throttle(principal, st.endpoint)
        return principal

    async def throttle(self, principal: Principal, endpoint: str) -> None:
        """429 ``rate_limit_exceeded`` when the key is over its rate (``hegui.gateway.ratelimit``)."""
        if self.rate_limiter is None:
            return
        verdict = await self.rate_limiter.hit(principal.key_id)
        if not verdict.allowed:
            self.metrics.rate_limited.labels(endpoint).inc()
            raise rate_limited(self.rate_limiter.limit, verdict.retry_after)

    async def identify_key(self, request: Request, st: ExchangeState) -> Principal:
        """The user behind the bearer key; 401 without a valid key, 503 if the database is down."""
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise unauthorized("missing API key: send `Authorization: Bearer <key>` (an operator creates one with "
                               "`hegui users create --name NAME --verified --reason WHY`; users register at "
                               "/v1/identity/register)")
        key = key.strip()
        digest = hash_key(key)
        hit = self._key_cache.get(digest)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            st.principal = hit[1]
            return hit[1]
        try:
            principal = await anyio.to_thread.run_sync(authenticate, self.ctx.db, key)
        except (SQLAlchemyError, DatabaseUnavailable, OSError):
            log.error("database unreachable while checking an API key")
            raise db_unavailable() from None
        if principal is None:
            raise unauthorized("invalid API key (unknown, revoked, or its user is disabled)")
        if len(self._key_cache) >= KEY_CACHE_MAX:
            self._key_cache.clear()
        self._key_cache[digest] = (now + KEY_CACHE_SECONDS, principal)
        st.principal = principal
        return principal

    def forget_keys(self) -> None:
        """Drop cached key look-ups (after a key is rotated or a user disabled through this process)."""
        self._key_cache.clear()

    # 2. usage (anti-addiction, quotas: registered by the usage domain) -----------------------------
    def check_usage(self, st: ExchangeState) -> None:
        for check in self.usage_checks:
            check(st)

    async def check_usage_async(self, st: ExchangeState) -> None:
        """The usage steps in a worker thread: they read and write counters, which must not block the loop.

        When every step says it can decide from its in-process caches (``ready(st)``: no database or
        Redis call), they run right here instead: the thread hop would cost more than the steps.
        """
        if not self.usage_checks:
            return
        if all(getattr(check, "ready", _never)(st) for check in self.usage_checks):
            self.check_usage(st)
        else:
            await anyio.to_thread.run_sync(self.check_usage, st)

    # 3. input moderation -------------------------------------------------------------------------
    def moderation_context(self, st: ExchangeState) -> ModerationContext:
        """Language of the conversation, minor status (set by the identity domain), PII tokens."""
        if st.tokenizer is None and self.pack.moderation.pii.mask_mode == "token":
            st.tokenizer = PiiTokenizer()
        return ModerationContext(language=st.lang, minor=st.minor, tokenizer=st.tokenizer)

    def stream_moderator(self, st: ExchangeState) -> StreamModerator:
        return StreamModerator(self.engine, context=self.moderation_context(st))

    def moderate_conversation(self, st: ExchangeState, messages: list[dict[str, Any]]) -> Decision:
        t = time.perf_counter()
        d = self.engine.moderate_conversation(messages, self.moderation_context(st))
        st.moderation_s += time.perf_counter() - t
        st.note(d)
        st.input_decision = d.to_dict()
        self.metrics.decision("input", d.action, _cats(d))
        return d

    def _moderated(self, st: ExchangeState, text: str, direction: Direction) -> Decision:
        """One engine check of ``text``, timed, noted on the exchange and counted in the metrics."""
        t = time.perf_counter()
        d = self.engine.moderate(text, direction, self.moderation_context(st))
        st.moderation_s += time.perf_counter() - t
        st.note(d)
        self.metrics.decision(direction, d.action, _cats(d))
        return d

    def moderate_text(self, st: ExchangeState, text: str, direction: Direction) -> Decision:
        d = self._moderated(st, text, direction)
        if direction == "output":
            st.output_decision = d.to_dict()
        else:
            st.input_decision = d.to_dict()
        return d

    def moderate_tool_context(self, st: ExchangeState, messages: list[dict[str, Any]]
                              ) -> tuple[Decision | None, dict[int, str]]:
        """Input the model reads besides the user turns: tool results (``tool``/``function`` messages) and
        tool-call arguments of the current turn (after the latest user message; earlier ones were checked
        when they were current, like earlier user turns). Returns the strongest decision (None when there
        is nothing to check) and, per message index, the masked text when a decision masks."""
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
        strongest: Decision | None = None
        masked: dict[int, str] = {}
        for i in range(last_user + 1, len(messages)):
            m = messages[i]
            role = m.get("role")
            if role in ("tool", "function"):
                texts = [content_text(m.get("content"))]
            elif role == "assistant":
                texts = [c["arguments"] for c in call_functions(m)]
            else:
                continue
            for text in texts:
                if not text.strip():
                    continue
                d = self._moderate_tool_text(st, text, "input")
                if d.action == "mask" and d.masked_text is not None and role in ("tool", "function"):
                    masked[i] = d.masked_text
                if strongest is None or ACTION_ORDER.index(d.action) > ACTION_ORDER.index(strongest.action):
                    strongest = d
        return strongest, masked

    def moderate_tool_calls(self, st: ExchangeState, message: dict[str, Any]) -> Decision | None:
        """The arguments of the answer's tool calls (and legacy ``function_call``), each moderated as output,
        masked in place when the pack masks; returns the first refusing decision (the calls must not go
        out), else None."""
        for fn in call_functions(message):
            args = fn["arguments"]
            if not args.strip():
                continue
            d = self._moderate_tool_text(st, args, "output")
            if d.action in REFUSING:
                return d
            if d.action == "mask" and d.masked_text is not None:
                fn["arguments"] = d.masked_text
        return None

    def _moderate_tool_text(self, st: ExchangeState, text: str, direction: Direction) -> Decision:
        d = self._moderated(st, text, direction)
        st.tool_decisions.append(d.to_dict())
        return d

    def refusal_text(self, decision: Decision, lang: str) -> str:
        return decision.refusal_text or self.pack.moderation.refusal.get(lang) or self.pack.moderation.refusal["en"]

    # 4. upstream ------------------------------------------------------------------------------------
    def route(self, st: ExchangeState, model: str) -> Upstream:
        st.model = model
        u = self.pool.route(model)
        st.upstream = u.name
        try:  # egress allow-list: user content only goes to allowed hosts (hegui.privacy.egress)
            check_destination(self.ctx.settings, u.config.base_url)
        except EgressDenied as err:
            raise ApiError(403, str(err), "permission_error", None, "egress_denied") from None
        return u

    async def call_json(self, st: ExchangeState, u: Upstream, path: str, body: dict[str, Any]) -> dict[str, Any]:
        t = time.perf_counter()
        try:
            return await self.pool.post_json(u, path, body)
        finally:
            st.upstream_s += time.perf_counter() - t
            self.metrics.upstream_latency.labels(u.name).observe(time.perf_counter() - t)

    # 5. output moderation (non-stream) ---------------------------------------------------------------
    def moderate_answer(self, st: ExchangeState, text: str, input_decision: Decision | None) -> tuple[str, bool]:
        """The text to deliver and whether it was cut for the content filter."""
        if st.tokenizer is not None:
            text = st.tokenizer.restore(text)
        d = self.moderate_text(st, text, "output")
        if d.action in REFUSING:
            return self.refusal_text(d, st.lang), True
        out = text
        if d.action == "mask" and d.masked_text is not None:
            out = d.masked_text
        disclaimers = [x.disclaimer for x in (input_decision, d) if x is not None and x.disclaimer]
        if disclaimers:
            out = "\n".join(dict.fromkeys(disclaimers)) + "\n" + out
        return out, False

    # 6. labeling ----------------------------------------------------------------------------------
    def label(self, text: str) -> str:
        if not self.text_label:
            return text
        return apply_label(text, self.pack.labels.text, language_of(text) if text else None)

    def label_piece(self, lang: str) -> str | None:
        """The label as a stream piece for its position, or None when labels are off."""
        lab = self.pack.labels.text
        if not self.text_label or lab.position == "none":
            return None
        return label_text(lab, lang)

    # 7. audit --------------------------------------------------------------------------------------
    async def audit(self, st: ExchangeState) -> None:
        """Write the record and wait until it is committed; 503 if that is impossible (fail closed)."""
        t = time.perf_counter()
        try:
            await self.writer.write(st.to_exchange())
        except Exception as err:
            log.error("audit write failed (%s); answering 503", type(err).__name__)
            raise db_unavailable() from None
        finally:
            self.metrics.audit_write.observe(time.perf_counter() - t)
        if self.after_refusal is not None and st.action in REFUSING:
            await self.after_refusal(st)

    def audit_in_background(self, st: ExchangeState) -> None:
        """For exchanges the client walked away from: queue the record without waiting (never dropped)."""
        ex = st.to_exchange()

        async def _go() -> None:
            try:
                await self.writer.write(ex)
            except Exception as err:
                log.error("audit write of abandoned exchange %s failed: %s", ex.record_id, type(err).__name__)

        task = asyncio.get_running_loop().create_task(_go())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    _background: set[asyncio.Task[None]] = set()  # noqa: RUF012 - strong refs until done

    def observe(self, st: ExchangeState) -> None:
        for check in self.usage_checks:  # usage accounting counts the exchange's end (streaming time)
            done = getattr(check, "finish", None)
            if done is not None:
                done(st)
        self.metrics.requests.labels(st.endpoint, str(st.status)).inc()
        self.metrics.overhead.labels(st.endpoint).observe(max(0.0, time.perf_counter() - st.t0 - st.upstream_s))


def content_text(content: Any) -> str:
    """The text the model reads from a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content
                         if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str))
    return ""


def call_functions(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``function`` objects of a message's tool calls (and legacy ``function_call``) whose arguments are
    text: the dicts themselves, so masking can write to them."""
    fns = [c.get("function") for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    fns.append(message.get("function_call"))
    return [f for f in fns if isinstance(f, dict) and isinstance(f.get("arguments"), str)]


def audit_copy(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The request as the audit keeps it: images are not moderated (no image model), so they are recorded
    by reference: an ``image_url`` URL as is, inline ``data:`` images as their SHA-256 and size."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "image_url" for p in content):
            m = {**m, "content": [_image_ref(p) if isinstance(p, dict) and p.get("type") == "image_url" else p
                                  for p in content]}
        out.append(m)
    return out


def _image_ref(part: dict[str, Any]) -> dict[str, Any]:
    img = part.get("image_url")
    url = img.get("url") if isinstance(img, dict) else img
    if isinstance(url, str) and url.startswith("data:"):
        head, _, data = url.partition(",")
        raw = data.encode("ascii", "replace")
        return {"type": "image_url", "image_url": {"inline": head[5:][:100], "sha256": hashlib.sha256(raw).hexdigest(),
                                                   "chars": len(data)}}
    return part


# Stream helpers ---------------------------------------------------------------------------------
class ChunkFactory:
    """Builds ``chat.completion.chunk`` events: hegui's id (the audit record's), the upstream's model."""

    def __init__(self, model: str, record_id: str) -> None:
        self.id, self.model, self.created = f"chatcmpl-hg-{record_id}", model, int(time.time())

    def adopt(self, event: dict[str, Any]) -> None:
        self.model = str(event.get("model") or self.model)
        self.created = int(event.get("created") or self.created)

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        obj: dict[str, Any] = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                               "model": self.model,
                               "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        obj.update(extra)
        return sse(obj)


def completion(cid: str, model: str, text: str, finish_reason: str, usage: dict[str, Any] | None = None,
               created: int | None = None) -> dict[str, Any]:
    return {"id": cid, "object": "chat.completion", "created": created or int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason, "logprobs": None}],
            "usage": usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


async def relay_stream(gw: Gateway, st: ExchangeState, us: UpstreamStream, moderator: StreamModerator,
                       input_decision: Decision) -> AsyncIterator[bytes]:
    """Upstream SSE → stream moderator → label → client; audit committed before ``[DONE]``.

    Only text the moderator released is sent; on a violation the rest of the upstream stream is
    dropped, the replacement text is sent with ``finish_reason: content_filter``.
    """
    cf = ChunkFactory(st.model or "", st.record_id)
    restorer = st.tokenizer.stream_restorer() if st.tokenizer is not None else None
    answer: list[str] = []
    finished = False
    try:
        yield cf.chunk({"role": "assistant", "content": ""})
        pre = [x for x in (input_decision.disclaimer,) if x]
        start_label = gw.label_piece(st.lang) if gw.pack.labels.text.position == "start" else None
        for piece in ([start_label] if start_label else []) + pre:
            answer.append(piece + "\n")
            yield cf.chunk({"content": piece + "\n"})
        finish_reason: str | None = None
        usage: dict[str, Any] | None = None
        cut = False
        t_mod = 0.0
        calls: dict[int, dict[str, Any]] = {}  # tool calls, gathered whole: moderated before they go out
        legacy_call: dict[str, Any] = {}
        try:
            async for batch in us.batches():
                text: list[str] = []
                for ev in batch:
                    cf.adopt(ev)
                    if ev.get("usage"):
                        usage = ev["usage"]
                    choices = ev.get("choices") or []
                    if not choices or not isinstance(choices[0], dict):
                        continue
                    ch = choices[0]
                    delta = ch.get("delta") or {}
                    content = delta.get("content")
                    if isinstance(content, str) and content:
                        text.append(restorer.feed(content) if restorer is not None else content)
                    _gather_calls(calls, delta.get("tool_calls"))
                    _gather_function(legacy_call, delta.get("function_call"))
                    released_fields(st, delta)  # other fields (reasoning text, …) are not released
                    if ch.get("finish_reason"):
                        finish_reason = str(ch["finish_reason"])
                if text and not moderator.stopped:
                    t = time.perf_counter()
                    out = _feed(moderator, "".join(text))
                    t_mod += time.perf_counter() - t
                    if out:
                        answer.append(out)
                        yield cf.chunk({"content": out})
                if moderator.stopped:
                    cut = True
                    break
            if not cut:
                if not us.done and finish_reason is None:
                    raise upstream_failed(us.upstream.name, "ended the stream before it was complete", 502,
                                          "upstream_stream_dropped")
                t = time.perf_counter()
                tail = moderator.feed(restorer.finish()) if restorer is not None else ""
                tail += moderator.finish()
                t_mod += time.perf_counter() - t
                if tail:
                    answer.append(tail)
                    yield cf.chunk({"content": tail})
                cut = bool(moderator.stopped)
        finally:
            st.moderation_s += t_mod
            st.upstream_s += time.perf_counter() - us.started - t_mod
            gw.metrics.upstream_latency.labels(us.upstream.name).observe(time.perf_counter() - us.started)
            with anyio.CancelScope(shield=True):
                await us.aclose()
        decision = moderator.decision
        if decision is not None:
            st.note(decision)
            st.output_decision = decision.to_dict()
            gw.metrics.decision("output", decision.action, _cats(decision))
        tool_message: dict[str, Any] = {"tool_calls": [calls[i] for i in sorted(calls)]} if calls else {}
        if legacy_call:
            tool_message["function_call"] = legacy_call
        tool_block = gw.moderate_tool_calls(st, tool_message) if tool_message and not cut else None
        released = "".join(answer[len(pre) + (1 if start_label else 0):])  # the model's text that went out
        if cut or tool_block is not None:
            cut = True
            replacement = (tool_block.refusal_text if tool_block is not None else moderator.replacement) or \
                gw.refusal_text(input_decision, st.lang)
            piece = ("\n" if "".join(answer).strip() else "") + replacement
            answer.append(piece)
            yield cf.chunk({"content": piece})
            finish_reason = "content_filter"
        elif decision is not None and decision.disclaimer and decision.disclaimer != input_decision.disclaimer:
            answer.append("\n" + decision.disclaimer)
            yield cf.chunk({"content": "\n" + decision.disclaimer})
        end_label = gw.label_piece(language_of(released)) if gw.pack.labels.text.position == "end" else None
        if end_label and released.strip():  # AI-generated text went out: it carries the label
            answer.append("\n" + end_label)
            yield cf.chunk({"content": "\n" + end_label})
        if tool_message and not cut:
            yield cf.chunk(tool_message)
        st.answer = "".join(answer)
        if tool_message:
            st.answer_tool_calls = tool_message
        yield cf.chunk({}, finish_reason or "stop",
                       hegui={"decision": st.action, "categories": sorted(st.categories), "request_id": st.record_id})
        if usage:
            yield sse({"id": cf.id, "object": "chat.completion.chunk", "created": cf.created, "model": cf.model,
                       "choices": [], "usage": usage})
        finished = True
        await gw.audit(st)
        yield SSE_DONE
    except ApiError as err:
        st.fail(err)
        st.answer = "".join(answer)
        if not finished:
            await _audit_quietly(gw, st)
        yield sse(err.body())
    finally:
        if st.answer is None:  # the client went away mid-stream
            st.status, st.error = 499, "client closed the stream"
            st.answer = "".join(answer)
            gw.audit_in_background(st)
        gw.observe(st)


def _gather_calls(calls: dict[int, dict[str, Any]], deltas: Any) -> None:
    """Join streamed ``tool_calls`` fragments by index (name and arguments arrive in pieces)."""
    for d in deltas if isinstance(deltas, list) else []:
        if not isinstance(d, dict):
            continue
        raw_index = d.get("index")
        index = raw_index if isinstance(raw_index, int) else len(calls)
        call = calls.setdefault(index, {"index": index, "type": "function", "function": {"name": "", "arguments": ""}})
        for key in ("id", "type"):
            if isinstance(d.get(key), str):
                call[key] = d[key]
        _gather_function(call["function"], d.get("function"))


def _gather_function(into: dict[str, Any], fragment: Any) -> None:
    if not isinstance(fragment, dict):
        return
    for key in ("name", "arguments"):
        if isinstance(fragment.get(key), str):
            into[key] = into.get(key, "") + fragment[key]


def _feed(moderator: StreamModerator, text: str) -> str:
    return moderator.feed(text) if text else ""


async def _audit_quietly(gw: Gateway, st: ExchangeState) -> None:
    try:
        await gw.audit(st)
    except ApiError:
        log.error("could not audit failed stream %s", st.record_id)
