"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

Every failure the gateway answers goes through ``ApiError`` so that SDKs raise the right
exception class (401 → AuthenticationError, 404 → NotFoundError, …) with a readable message.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, "invalid_request_error", None, "invalid_api_key",
                    {"www-authenticate": "Bearer"})


def forbidden(message: str) -> ApiError:
    return ApiError(403, message, "permission_error", None, "insufficient_role")


def bad_request(message: str, param: str | None = None, code: str | None = "invalid_request") -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, code)


def db_unavailable() -> ApiError:
    return ApiError(503, "the audit database is unavailable; hegui fails closed and serves nothing unaudited",
                    "service_unavailable", None, "database_unavailable")
