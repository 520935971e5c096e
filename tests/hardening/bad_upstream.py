"""A deliberately broken OpenAI-compatible upstream on loopback (raw asyncio, own thread).

The fault is chosen by a cue in the last user message (``FAULT:<name>``); see ``FAULTS``.
Every answer the gateway might release carries ``LEAK`` so a test can prove none escaped unchecked.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any

LEAK = "未经审核的上游文本"  # never allowed to reach a client when the exchange failed
FAULTS = ("slow_first_byte", "stall_mid_stream", "reset", "reset_mid_stream", "invalid_json", "invalid_sse",
          "huge", "huge_chunked", "wrong_content_type", "429", "503", "500_html", "non_utf8_sse", "json_array",
          "empty_200")
HUGE_BYTES = 12 * 1024 * 1024


class BadUpstream:
    def __init__(self, stall_seconds: float = 30.0, huge_bytes: int = HUGE_BYTES) -> None:
        self.stall_seconds, self.huge_bytes = stall_seconds, huge_bytes
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> BadUpstream:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def main() -> None:
                self._server = await asyncio.start_server(self._handle, sock=sock, backlog=512)
                ready.set()
                async with self._server:
                    await self._server.serve_forever()

            try:
                loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="bad-upstream")
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop and self._server:
            self._loop.call_soon_threadsafe(self._server.close)
            for task in asyncio.all_tasks(self._loop):
                self._loop.call_soon_threadsafe(task.cancel)
        if self._thread:
            self._thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                body: Any = json.loads(await reader.readexactly(n)) if n else {}
                if not await self._answer(body, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    @staticmethod
    def _head(status: int, ctype: str, extra: str = "", length: int | None = None) -> bytes:
        size = f"content-length: {length}\r\n" if length is not None else "transfer-encoding: chunked\r\n"
        return f"HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\n{extra}{size}\r\n".encode()

    @staticmethod
    def _chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    @staticmethod
    def _event(text: str) -> bytes:
        return b"data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                                       "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
                                      ensure_ascii=False).encode() + b"\n\n"

    def _full(self, writer: asyncio.StreamWriter, status: int, ctype: str, data: bytes, extra: str = "") -> None:
        writer.write(self._head(status, ctype, extra, len(data)) + data)

    async def _answer(self, body: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        msgs = body.get("messages") or [{}]
        cue = str(msgs[-1].get("content", ""))
        fault = cue.split("FAULT:", 1)[1].split()[0] if "FAULT:" in cue else ""
        stream = bool(body.get("stream"))
        good = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": LEAK}, "finish_reason": "stop"}]},
            ensure_ascii=False).encode()
        if fault == "slow_first_byte":
            await asyncio.sleep(self.stall_seconds)
        if fault in ("reset", "slow_first_byte"):
            writer.transport.abort()
            return False
        if fault == "invalid_json":
            self._full(writer, 200, "application/json", b'{"id": "x", "choices": [' + LEAK.encode())
        elif fault == "json_array":
            self._full(writer, 200, "application/json", b"[1, 2, 3]")
        elif fault == "empty_200":
            self._full(writer, 200, "application/json", b"")
        elif fault == "wrong_content_type":
            self._full(writer, 200, "text/html", b"<html>" + LEAK.encode() + b"</html>")
        elif fault == "huge":
            if stream:
                writer.write(self._head(200, "text/event-stream"))
                piece = self._event(LEAK * 200)
                for _ in range(self.huge_bytes // len(piece)):
                    writer.write(self._chunk(piece))
                    await writer.drain()
                writer.write(self._chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            else:
                data = good.replace(LEAK.encode(), LEAK.encode() * (self.huge_bytes // len(LEAK.encode())))
                self._full(writer, 200, "application/json", data)
        elif fault == "huge_chunked":  # a plain answer without content-length: its size shows only while reading
            data = good.replace(LEAK.encode(), LEAK.encode() * (self.huge_bytes // len(LEAK.encode())))
            writer.write(self._head(200, "application/json"))
            for i in range(0, len(data), 65536):
                writer.write(self._chunk(data[i:i + 65536]))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        elif fault in ("429", "503"):
            err = json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}).encode()
            self._full(writer, int(fault), "application/json", err, "retry-after: 7\r\n")
        elif fault == "500_html":
            self._full(writer, 500, "text/html", b"<h1>" + LEAK.encode() + b"</h1>")
        elif fault in ("stall_mid_stream", "reset_mid_stream", "invalid_sse", "non_utf8_sse"):
            writer.write(self._head(200, "text/event-stream"))
            writer.write(self._chunk(self._event(LEAK)))
            await writer.drain()
            if fault == "stall_mid_stream":
                await asyncio.sleep(self.stall_seconds)
            elif fault == "invalid_sse":
                writer.write(self._chunk(b"data: {not json " + LEAK.encode() + b"\n\n"))
                await writer.drain()
                await asyncio.sleep(self.stall_seconds)
            elif fault == "non_utf8_sse":
                writer.write(self._chunk(b"data: \xff\xfe\n\n"))
                await writer.drain()
                await asyncio.sleep(self.stall_seconds)
            writer.transport.abort()
            return False
        else:
            self._full(writer, 200, "application/json", good)
        await writer.drain()
        return True
