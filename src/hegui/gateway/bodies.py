"""Reading and validating request bodies: size limit, UTF-8, JSON, then the OpenAI request shape.

Each failure becomes a 4xx in OpenAI's error shape that names the offending field.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hegui.gateway.errors import ApiError, bad_request

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; 413 over ``max_bytes`` (checked while reading), 400 otherwise."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(int(declared), max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(size, max_bytes)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        raise bad_request("request body is empty: expected a JSON object", code="invalid_json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise bad_request(f"request body is not valid UTF-8 (bad byte at offset {err.start})",
                          code="invalid_encoding") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise bad_request(f"request body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}",
                          code="invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request(f"request body must be a JSON object, got {type(data).__name__}", code="invalid_json")
    return data


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, f"request body is {size} bytes, over the limit of {limit} bytes (gateway.max_body_bytes)",
                    "invalid_request_error", None, "request_too_large")


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Validate against a request model; the first error names the field path and what is expected."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(p) for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = first["msg"]
        if first["type"] == "missing":
            msg = "is required"
        more = f" (+{err.error_count() - 1} more problem(s))" if err.error_count() > 1 else ""
        raise bad_request(f"invalid request: {path or 'body'}: {msg}{more}", param=path or None) from None


class _Open(BaseModel):
    """OpenAI adds fields often; unknown fields pass through to the upstream untouched."""

    model_config = ConfigDict(extra="allow")


class TextPart(_Open):
    type: str
    text: str | None = None


class Message(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None
    name: str | None = None

    def text(self) -> str:
        """The text the model will read from this message (text parts joined)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if p.type == "text" and p.text)


class ChatRequest(_Open):
    model: str = Field(min_length=1, max_length=200)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    n: int = Field(default=1, ge=1, le=1, description="one choice per request: each is moderated and audited")


class EmbeddingsRequest(_Open):
    model: str = Field(min_length=1, max_length=200)
    input: str | list[str] | list[int] | list[list[int]]


class ModerationRequest(_Open):
    input: str | list[str]
    model: str | None = None
