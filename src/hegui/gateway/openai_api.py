"""The OpenAI-compatible API: chat completions, models, embeddings, moderations.

Handlers only call pipeline steps in order; see ``hegui.gateway.pipeline``.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from hegui.detect.pii.masking import PiiTokenizer
from hegui.gateway.bodies import ChatRequest, EmbeddingsRequest, ModerationRequest, read_json, validate
from hegui.gateway.errors import ApiError
from hegui.gateway.moderations import moderation_result
from hegui.gateway.pipeline import (
    REFUSING,
    ExchangeState,
    Gateway,
    audit_copy,
    completion,
    relay_stream,
    released_fields,
)
from hegui.moderation import detect_language
from hegui.privacy.egress import mask_upstream_body

router = APIRouter()
AIGC = {"x-hegui-aigc": "1"}


def _gw(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


async def _finish(gw: Gateway, st: ExchangeState, err: ApiError) -> Response:
    """An exchange that ends in an error: audit it (it is still an exchange), then answer."""
    st.fail(err)
    await gw.audit(st)
    gw.observe(st)
    err.headers.update(st.headers())
    return err.response()


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(request: Request) -> Response:
    gw = _gw(request)
    st = gw.begin(request, "chat.completions")
    await gw.identify(request, st)
    try:
        data = await read_json(request, gw.max_body)
        req = validate(ChatRequest, data)
        st.model, st.stream = req.model, req.stream
        messages = [m.model_dump(exclude_none=True) for m in req.messages]
        st.request_content = audit_copy(messages)
        last_user = next((m.text() for m in reversed(req.messages) if m.role == "user"), req.messages[-1].text())
        st.lang = detect_language(last_user)
        await gw.check_usage_async(st)
        upstream = gw.route(st, req.model)
        decision = gw.moderate_conversation(st, messages)
        tool_decision, tool_masks = gw.moderate_tool_context(st, messages)
    except ApiError as err:
        return await _finish(gw, st, err)

    refusing = decision if decision.action in REFUSING else tool_decision
    if refusing is not None and refusing.action in REFUSING:
        text = gw.refusal_text(refusing, st.lang)
        st.answer = text
        await gw.audit(st)
        gw.observe(st)
        body = completion(f"chatcmpl-hg-{st.record_id}", req.model, text, "content_filter")
        if req.stream:
            return _refusal_stream(body, st.headers())
        return JSONResponse(body, headers={**st.headers(), **AIGC})

    if decision.action == "mask" and decision.masked_text is not None:
        data = _with_masked_last_user(data, decision.masked_text)
    if tool_masks:
        data = {**data, "messages": [{**m, "content": tool_masks[i]} if i in tool_masks else m
                                     for i, m in enumerate(data["messages"])]}
    if tool_decision is not None and tool_decision.disclaimer and not decision.disclaimer:
        decision.disclaimer = tool_decision.disclaimer
    if gw.ctx.settings.privacy.mask_pii_upstream:  # reversible tokens upstream; values restored in the answer
        st.tokenizer = st.tokenizer or PiiTokenizer()
        data = mask_upstream_body(data, st.tokenizer)

    if req.stream:
        try:
            us = await gw.pool.open_stream(upstream, "/chat/completions", data)
        except ApiError as err:
            return await _finish(gw, st, err)
        moderator = gw.stream_moderator(st)
        return RelayResponse(relay_stream(gw, st, us, moderator, decision), media_type="text/event-stream",
                             headers={**st.headers(), **AIGC, "cache-control": "no-cache"})

    try:
        answer = await gw.call_json(st, upstream, "/chat/completions", data)
        choices = answer.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ApiError(502, f"upstream {upstream.name!r} answered without choices", "upstream_error", None,
                           "upstream_bad_response")
    except ApiError as err:
        return await _finish(gw, st, err)
    msg = choices[0].get("message") or {}
    msg = released_fields(st, msg) if isinstance(msg, dict) else {}
    content = msg.get("content")
    text = content if isinstance(content, str) else ""
    out, cut = gw.moderate_answer(st, text, decision)
    if not cut and text:
        out = gw.label(out)
    tools_blocked = None if cut else gw.moderate_tool_calls(st, msg)
    if tools_blocked is not None:
        out, cut = gw.refusal_text(tools_blocked, st.lang), True
    if cut:  # nothing of a refused answer goes out, its tool calls included
        msg = {k: v for k, v in msg.items() if k not in ("tool_calls", "function_call")}
    elif msg.get("tool_calls") or msg.get("function_call"):
        st.answer_tool_calls = {k: msg[k] for k in ("tool_calls", "function_call") if msg.get(k)}
    msg = {**msg, "role": "assistant", "content": out if (text or cut) else content}
    choices[0] = {**choices[0], "message": msg, "finish_reason": "content_filter" if cut else
                  choices[0].get("finish_reason")}
    answer["choices"] = choices[:1]
    st.answer = out
    await gw.audit(st)
    gw.observe(st)
    return JSONResponse(answer, headers={**st.headers(), **AIGC})


class RelayResponse(StreamingResponse):
    """A stream that stops at once when the client goes away: the relay generator is closed right then
    (not when it is garbage-collected), which closes the upstream request and queues the exchange's
    audit record as client-aborted (``relay_stream``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


def _with_masked_last_user(data: dict[str, Any], masked: str) -> dict[str, Any]:
    msgs = list(data["messages"])
    for i in range(len(msgs) - 1, -1, -1):
        if msgs[i].get("role") == "user":
            msgs[i] = {**msgs[i], "content": masked}
            break
    return {**data, "messages": msgs}


def _refusal_stream(body: dict[str, Any], headers: dict[str, str]) -> StreamingResponse:
    from hegui.gateway.pipeline import SSE_DONE, sse

    base = {"id": body["id"], "object": "chat.completion.chunk", "created": body["created"], "model": body["model"]}
    text = body["choices"][0]["message"]["content"]

    async def gen() -> Any:
        yield sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                        "finish_reason": None}]})
        yield sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "content_filter"}]})
        yield SSE_DONE

    return StreamingResponse(gen(), media_type="text/event-stream", headers={**headers, **AIGC})


@router.get("/v1/models")
async def models(request: Request) -> dict[str, Any]:
    gw = _gw(request)
    st = gw.begin(request, "models")
    await gw.identify(request, st)
    return {"object": "list", "data": await gw.pool.list_models()}


@router.post("/v1/embeddings", response_model=None)
async def embeddings(request: Request) -> Response:
    gw = _gw(request)
    st = gw.begin(request, "embeddings")
    await gw.identify(request, st)
    try:
        data = await read_json(request, gw.max_body)
        req = validate(EmbeddingsRequest, data)
        st.model = req.model
        texts = [req.input] if isinstance(req.input, str) else req.input
        if any(not isinstance(t, str) for t in texts):
            raise ApiError(400, "token-array input cannot be moderated: send the text itself", "invalid_request_error",
                           "input", "unmoderatable_input")
        st.request_content = texts
        await gw.check_usage_async(st)
        upstream = gw.route(st, req.model)
        for t in texts:
            d = gw.moderate_text(st, str(t), "input")
            if d.action in REFUSING:
                raise ApiError(400, "input refused by the content policy (" + ",".join(sorted(st.categories)) + ")",
                               "invalid_request_error", "input", "content_filter")
        answer = await gw.call_json(st, upstream, "/embeddings", data)
    except ApiError as err:
        return await _finish(gw, st, err)
    await gw.audit(st)
    gw.observe(st)
    return JSONResponse(answer, headers=st.headers())


@router.post("/v1/moderations", response_model=None)
async def moderations(request: Request) -> Response:
    gw = _gw(request)
    st = gw.begin(request, "moderations")
    await gw.identify(request, st)
    try:
        req = validate(ModerationRequest, await read_json(request, gw.max_body))
    except ApiError as err:
        return await _finish(gw, st, err)
    texts = [req.input] if isinstance(req.input, str) else req.input
    st.request_content = texts
    results = [moderation_result(gw.moderate_text(st, t, "input")) for t in texts]
    await gw.audit(st)
    gw.observe(st)
    return JSONResponse({"id": f"modr-hg-{st.record_id}", "model": req.model or f"hegui-{gw.pack.name}",
                         "results": results}, headers=st.headers())
