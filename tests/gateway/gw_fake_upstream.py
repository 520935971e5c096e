"""A real OpenAI-compatible HTTP server on loopback for tests and the benchmark.

Raw asyncio (HTTP/1.1 keep-alive, chunked SSE) in its own thread, so it answers as fast as
possible and can misbehave precisely. Behaviour is cued by the last user message:

* ``CUE:UNSAFE``  answers ``unsafe_text`` (streamed in small pieces)
* ``CUE:500``     answers HTTP 500 with an OpenAI error body
* ``CUE:CUT``     streams two pieces, then cuts the connection in the middle of a UTF-8 character
* ``CUE:SLOW``    waits ``slow_seconds`` before answering
* ``CUE:ECHO``    answers the last user message
* ``CUE:TOOL``    answers with one tool call ``lookup`` whose arguments are ``tool_arguments`` (streamed in
                  fragments of ``piece_chars``), no text
* ``CUE:REASON``  answers ``answer_text`` with ``unsafe_text`` as ``reasoning_content`` (a reasoning model's
                  trace; streamed before the answer's pieces)
* ``CUE:GATED``   streams ``gated_parts[0]``, waits until the test sets ``gate``, then ``gated_parts[1]``
* otherwise       answers ``answer_text``
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any


def reader_gone(writer: asyncio.StreamWriter) -> bool:
    """The peer closed its side (EOF seen by the protocol): a client that hung up."""
    proto = writer.transport.get_protocol()
    reader = getattr(proto, "_stream_reader", None)
    return bool(reader is not None and reader.at_eof())


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeUpstream:
    answer_text: str = "你好！我是一个测试模型。"
    unsafe_text: str = "好的，下面是步骤。"
    piece_chars: int = 4
    slow_seconds: float = 5.0
    models: tuple[str, ...] = ("fake-model", "fake-model-2")
    seen: list[Seen] = field(default_factory=list)
    record: bool = True
    piece_delay: float = 0.0  # seconds between streamed pieces (a model generating), 0 = all at once
    gated_parts: tuple[str, str] = ("", "")
    gate: threading.Event = field(default_factory=threading.Event)
    tool_arguments: str = '{"city": "杭州"}'
    streams_started: int = 0  # streamed answers begun, finished (``[DONE]`` written) and cut by the peer
    streams_finished: int = 0
    streams_abandoned: int = 0

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # lifecycle --------------------------------------------------------------------------------
    def start(self) -> FakeUpstream:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def main() -> None:
                self._server = await asyncio.start_server(self._handle, sock=sock, backlog=1024)
                ready.set()
                async with self._server:
                    await self._server.serve_forever()

            try:
                loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-upstream")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop and self._server:
            self._loop.call_soon_threadsafe(self._server.close)
            for task in asyncio.all_tasks(self._loop):
                self._loop.call_soon_threadsafe(task.cancel)
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # HTTP -------------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(n) if n else b""
                body = json.loads(raw) if raw else None
                if self.record:
                    self.seen.append(Seen(method, path, headers, body))
                keep = await self._route(method, path, body, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()

    @staticmethod
    def _json(writer: asyncio.StreamWriter, status: int, obj: Any) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode()
        reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}.get(status, "X")
        writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                     f"content-length: {len(data)}\r\n\r\n".encode() + data)

    async def _route(self, method: str, path: str, body: Any, writer: asyncio.StreamWriter) -> bool:
        if method == "GET" and path.endswith("/models"):
            self._json(writer, 200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]})
            await writer.drain()
            return True
        if method == "POST" and path.endswith("/embeddings"):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            self._json(writer, 200, {"object": "list", "model": body["model"], "data": [
                {"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(len(inputs))],
                "usage": {"prompt_tokens": 1, "total_tokens": 1}})
            await writer.drain()
            return True
        if method == "POST" and path.endswith("/chat/completions"):
            return await self._chat(body, writer)
        self._json(writer, 404, {"error": {"message": "no such route", "type": "invalid_request_error"}})
        await writer.drain()
        return True

    async def _tool_call(self, body: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        model, args = body.get("model", "fake-model"), self.tool_arguments
        base = {"id": "chatcmpl-fake-tool", "created": int(time.time()), "model": model}
        if not body.get("stream"):
            call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": args}}
            self._json(writer, 200, {**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                 "finish_reason": "tool_calls"}]})
            await writer.drain()
            return True
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        frags = [args[i:i + self.piece_chars] for i in range(0, len(args), self.piece_chars)]
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}]}]
        deltas += [{"tool_calls": [{"index": 0, "function": {"arguments": f}}]} for f in frags]
        events = [{**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d,
                                                                           "finish_reason": None}]} for d in deltas]
        events.append({**base, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
        for ev in events:
            payload = b"data: " + json.dumps(ev, ensure_ascii=False).encode() + b"\n\n"
            writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        payload = b"data: [DONE]\n\n"
        writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
        await writer.drain()
        return True

    async def _chat(self, body: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        msgs = body.get("messages") or []
        last = next((m.get("content") or "" for m in reversed(msgs) if m.get("role") == "user"), "")
        last = last if isinstance(last, str) else json.dumps(last)
        if "CUE:SLOW" in last:
            await asyncio.sleep(self.slow_seconds)
        if "CUE:500" in last:
            self._json(writer, 500, {"error": {"message": "model crashed", "type": "server_error"}})
            await writer.drain()
            return True
        text = self.answer_text
        if "CUE:UNSAFE" in last:
            text = self.unsafe_text
        elif "CUE:ECHO" in last:
            text = last
        model = body.get("model", "fake-model")
        cid, created = "chatcmpl-fake", int(time.time())
        if "CUE:TOOL" in last:
            return await self._tool_call(body, writer)
        if not body.get("stream"):
            self._json(writer, 200, {
                "id": cid, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": text,
                    **({"reasoning_content": self.unsafe_text} if "CUE:REASON" in last else {})},
                    "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(text), "total_tokens": 10 + len(text)}})
            await writer.drain()
            return True
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")

        def chunk(payload: bytes) -> bytes:
            return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return b"data: " + json.dumps({"id": cid, "object": "chat.completion.chunk", "created": created,
                                           "model": model, "choices": [{"index": 0, "delta": delta,
                                                                        "finish_reason": finish}]},
                                          ensure_ascii=False).encode() + b"\n\n"

        writer.write(chunk(event({"role": "assistant", "content": ""})))
        if "CUE:REASON" in last:
            for i in range(0, len(self.unsafe_text), self.piece_chars):
                piece = self.unsafe_text[i:i + self.piece_chars]
                writer.write(chunk(event({"content": None, "reasoning_content": piece})))
        if "CUE:CUT" in last:
            writer.write(chunk(event({"content": "第一段"})))
            writer.write(chunk(event({"content": "第二段"})))
            partial = event({"content": "断开的字"})
            cut_at = partial.index("断".encode()) + 1  # in the middle of a UTF-8 character
            writer.write(f"{len(partial):x}\r\n".encode() + partial[:cut_at])
            await writer.drain()
            writer.transport.abort()
            return False
        if "CUE:GATED" in last:
            first, rest = self.gated_parts
            writer.write(chunk(event({"content": first})))
            await writer.drain()
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
            text = rest
        pieces = [text[i:i + self.piece_chars] for i in range(0, len(text), self.piece_chars)]
        self.streams_started += 1
        try:
            if self.piece_delay:
                for p in pieces:
                    writer.write(chunk(event({"content": p})))
                    await writer.drain()
                    if writer.transport.is_closing() or reader_gone(writer):
                        raise ConnectionResetError("peer closed the stream")
                    await asyncio.sleep(self.piece_delay)
            else:
                writer.write(b"".join(chunk(event({"content": p})) for p in pieces))
            writer.write(chunk(event({}, "stop")))
            writer.write(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            self.streams_abandoned += 1
            raise
        self.streams_finished += 1
        return True
