"""Upstream model endpoints: model-name routing, pooled HTTP clients, retries on connect errors.

Upstream API keys are attached here and nowhere else; nothing from the upstream's request
headers is echoed back to clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from hegui.config import UpstreamConfig
from hegui.gateway.errors import ApiError


def no_upstream() -> ApiError:
    return ApiError(503, "no upstream model is configured: add `upstreams:` to hegui.yaml or start with "
                    "`hegui serve --upstream URL` (the moderation and admin APIs work without one)",
                    "service_unavailable", None, "no_upstream")


def upstream_failed(name: str, what: str, status: int = 502, code: str = "upstream_error") -> ApiError:
    return ApiError(status, f"upstream {name!r} {what}", "upstream_error", None, code)


def too_large(name: str, limit: int) -> ApiError:
    return upstream_failed(name, f"sent more than {limit} bytes (gateway.max_upstream_bytes); nothing of it is "
                           "released", 502, "upstream_too_large")


class _TooLarge(Exception):
    """The pump stopped reading: the stream passed ``max_bytes``."""


@dataclass
class Upstream:
    config: UpstreamConfig
    client: httpx.AsyncClient

    @property
    def name(self) -> str:
        return self.config.name

    def serves(self, model: str) -> bool:
        return "*" in self.config.models or model in self.config.models


_DONE = object()


DRAIN_SECONDS = 2.0  # how long a finished stream may take to deliver the end of its body


class UpstreamStream:
    """An open streaming response from an upstream: SSE ``data:`` payloads, then close."""

    def __init__(self, upstream: Upstream, response: httpx.Response, started: float,
                 max_bytes: int | None = None) -> None:
        self.upstream, self.response, self.started = upstream, response, started
        self.max_bytes = max_bytes  # the whole stream's size limit (gateway.max_upstream_bytes)
        self.first_byte_s: float | None = None
        self.done = False  # saw ``data: [DONE]``
        self._pump_task: asyncio.Task[None] | None = None

    async def _pump(self, q: asyncio.Queue[bytes | BaseException | None]) -> None:
        """Read the network as fast as it delivers, so the consumer can take what piled up at once."""
        size, cap = 0, self.max_bytes
        try:
            async for data in self.response.aiter_bytes():
                if self.first_byte_s is None:
                    self.first_byte_s = time.perf_counter() - self.started
                size += len(data)
                if cap is not None and size > cap:
                    await q.put(_TooLarge())
                    return
                await q.put(data)
            await q.put(None)
        except Exception as err:  # handed to the consumer, which turns it into an ApiError
            await q.put(err)

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Parsed JSON events, grouped by what has arrived by the time the previous group was handled.

        A slow model yields one event at a time (no added latency); a fast one yields many, which
        are then moderated together. Raises ApiError on timeout, a dropped connection or a bad event.
        """
        q: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=1024)
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(q))
        buf = b""
        ended = False
        while not ended:
            items = [await q.get()]
            while not q.empty() and items[-1] is not None and not isinstance(items[-1], BaseException):
                items.append(q.get_nowait())
            err = items[-1] if isinstance(items[-1], BaseException) else None
            ended = err is not None or items[-1] is None
            buf += b"".join(x for x in items if isinstance(x, bytes))
            *lines, buf = buf.split(b"\n")
            if ended and err is None and buf.strip():
                lines.append(buf)
            batch: list[dict[str, Any]] = []
            for raw in lines:
                event = self._parse(raw)
                if event is _DONE:
                    self.done = True
                    ended = True
                    break
                if event is not None:
                    batch.append(event)
            if batch:
                yield batch
            if err is not None and not self.done:
                self._raise_transport(err)

    def _raise_transport(self, err: BaseException) -> None:
        name = self.upstream.name
        if isinstance(err, _TooLarge):
            raise too_large(name, self.max_bytes or 0)
        if isinstance(err, httpx.TimeoutException):
            raise upstream_failed(name, "timed out in the middle of the stream", 504, "upstream_timeout")
        raise upstream_failed(name, f"dropped the stream ({type(err).__name__})", 502, "upstream_stream_dropped")

    def _parse(self, raw: bytes) -> Any:
        """One SSE line: an event dict, ``_DONE``, or None (comments, blank lines, other fields)."""
        if not raw.startswith(b"data:"):
            return None
        try:
            payload = raw[5:].decode("utf-8").strip()
        except UnicodeDecodeError:
            raise upstream_failed(self.upstream.name, "sent an event that is not UTF-8", 502,
                                  "upstream_bad_event") from None
        if payload == "[DONE]":
            return _DONE
        try:
            event = json.loads(payload)
        except ValueError:
            raise upstream_failed(self.upstream.name, "sent an event that is not JSON", 502,
                                  "upstream_bad_event") from None
        if isinstance(event, dict) and "error" in event:
            raise upstream_failed(self.upstream.name, f"reported an error mid-stream: {str(event['error'])[:200]}")
        return event if isinstance(event, dict) else None

    async def aclose(self) -> None:
        if self.done and self._pump_task is not None and not self._pump_task.done():
            # After ``[DONE]`` only the end of the body is left: let the pump read it, so the connection
            # goes back to the pool. Cancelling that last read left the connection checked out for good
            # (httpcore), and after ``max_connections`` streams every new stream waited for a free one.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._pump_task), DRAIN_SECONDS)
        if self._pump_task is not None and not self._pump_task.done():
            self._pump_task.cancel()
            with contextlib.suppress(BaseException):
                await self._pump_task
        await self.response.aclose()


class UpstreamPool:
    """All configured upstreams with one pooled ``httpx.AsyncClient`` each."""

    def __init__(self, configs: list[UpstreamConfig], max_response_bytes: int | None = None) -> None:
        self.upstreams = [Upstream(c, self._client(c)) for c in configs]
        self.max_response_bytes = max_response_bytes  # per answer or stream; None = unbounded

    @staticmethod
    def _client(c: UpstreamConfig) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {c.api_key}"} if c.api_key else {}
        return httpx.AsyncClient(
            base_url=c.base_url, headers=headers,
            timeout=httpx.Timeout(c.timeout_seconds, connect=c.connect_timeout_seconds),
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=128),
        )

    async def aclose(self) -> None:
        await asyncio.gather(*(u.client.aclose() for u in self.upstreams))

    @property
    def configured(self) -> bool:
        return bool(self.upstreams)

    def route(self, model: str) -> Upstream:
        """The first upstream that serves ``model``; 503 without upstreams, 404 for an unknown model."""
        if not self.upstreams:
            raise no_upstream()
        for u in self.upstreams:
            if u.serves(model):
                return u
        known = sorted({m for u in self.upstreams for m in u.config.models})
        raise ApiError(404, f"The model `{model}` does not exist or is not served here (served: {', '.join(known)})",
                       "invalid_request_error", "model", "model_not_found")

    async def _send(self, u: Upstream, method: str, path: str, body: dict[str, Any] | None,
                    stream: bool) -> httpx.Response:
        """Send with retries on connect errors only (a request that reached the model is never re-sent)."""
        req = u.client.build_request(method, path, json=body)
        attempts = u.config.retries + 1
        for attempt in range(attempts):
            try:
                return await u.client.send(req, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:
                if attempt + 1 == attempts:
                    raise upstream_failed(u.name, f"is unreachable after {attempts} attempt(s) ({type(err).__name__})",
                                          502, "upstream_unreachable") from None
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
            except httpx.TimeoutException:
                raise upstream_failed(u.name, f"timed out after {u.config.timeout_seconds:g}s", 504,
                                      "upstream_timeout") from None
            except httpx.HTTPError as err:
                raise upstream_failed(u.name, f"failed: {type(err).__name__}", 502) from None
        raise AssertionError("unreachable")

    @staticmethod
    def _raise_for_status(u: Upstream, status: int, body: bytes, retry_after: str | None = None) -> None:
        if status < 400:
            return
        # The upstream's back-off hint (429/503) reaches the client, so SDK retries wait as asked.
        hint = {"retry-after": retry_after} if retry_after and retry_after.strip().isdigit() else None
        detail = ""
        try:
            err = json.loads(body).get("error")
            detail = (err.get("message") if isinstance(err, dict) else str(err or "")) or ""
        except (ValueError, AttributeError):
            detail = ""
        if status >= 500:
            err5 = upstream_failed(u.name, f"answered HTTP {status}" + (f": {detail[:200]}" if detail else ""))
            err5.headers.update(hint or {})
            raise err5
        # 4xx: the request itself was refused upstream; say so with the upstream's reason.
        raise ApiError(status, f"upstream {u.name!r} rejected the request (HTTP {status})"
                       + (f": {detail[:300]}" if detail else ""), "invalid_request_error", None, "upstream_rejected",
                       hint)

    async def read_capped(self, u: Upstream, resp: httpx.Response) -> bytes:
        """The body of a streamed response, refused (502 ``upstream_too_large``) past ``max_response_bytes``
        without holding more than that in memory; the response is closed either way."""
        cap = self.max_response_bytes
        try:
            declared = resp.headers.get("content-length", "")
            if cap is not None and declared.isdigit() and int(declared) > cap:
                raise too_large(u.name, cap)
            chunks: list[bytes] = []
            size = 0
            async for data in resp.aiter_bytes():
                size += len(data)
                if cap is not None and size > cap:
                    raise too_large(u.name, cap)
                chunks.append(data)
            return b"".join(chunks)
        except httpx.TimeoutException:
            raise upstream_failed(u.name, f"timed out after {u.config.timeout_seconds:g}s", 504,
                                  "upstream_timeout") from None
        except httpx.HTTPError as err:
            raise upstream_failed(u.name, f"failed: {type(err).__name__}", 502) from None
        finally:
            await resp.aclose()

    async def post_json(self, u: Upstream, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self._send(u, "POST", path, body, stream=True)
        content = await self.read_capped(u, resp)
        self._raise_for_status(u, resp.status_code, content, resp.headers.get("retry-after"))
        try:
            data = json.loads(content)
        except ValueError:
            raise upstream_failed(u.name, "answered with a body that is not JSON", 502,
                                  "upstream_bad_response") from None
        if not isinstance(data, dict):
            raise upstream_failed(u.name, "answered with JSON that is not an object", 502, "upstream_bad_response")
        return data

    async def open_stream(self, u: Upstream, path: str, body: dict[str, Any]) -> UpstreamStream:
        started = time.perf_counter()
        resp = await self._send(u, "POST", path, body, stream=True)
        if resp.status_code >= 400:
            try:
                content = await self.read_capped(u, resp)
            except ApiError:
                content = b""
            self._raise_for_status(u, resp.status_code, content, resp.headers.get("retry-after"))
        return UpstreamStream(u, resp, started, self.max_response_bytes)

    async def list_models(self) -> list[dict[str, Any]]:
        """Models: the names in config, plus whatever ``*`` upstreams report (unreachable ones skipped)."""
        seen: dict[str, dict[str, Any]] = {}
        for u in self.upstreams:
            for m in u.config.models:
                if m != "*":
                    seen.setdefault(m, {"id": m, "object": "model", "created": 0, "owned_by": u.name})
            if "*" in u.config.models:
                try:
                    resp = await self._send(u, "GET", "/models", None, stream=False)
                    data = resp.json().get("data", []) if resp.status_code == 200 else []
                except (ApiError, ValueError, AttributeError):
                    data = []
                for m in data if isinstance(data, list) else []:
                    if isinstance(m, dict) and isinstance(m.get("id"), str):
                        seen.setdefault(m["id"], {"id": m["id"], "object": "model",
                                                  "created": int(m.get("created") or 0), "owned_by": u.name})
        return list(seen.values())
