"""One JSON error envelope for every error the API returns:
``{"error": {"code": ..., "message": ..., "details": ...}}``."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import CatalogError, SatwatchError, TimeError

log = logging.getLogger("satwatch.web")

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
                 413: "payload_too_large", 415: "unsupported_media_type",
                 422: "validation_error", 429: "too_many_requests", 500: "internal_error",
                 501: "not_implemented", 503: "unavailable"}


class ApiError(Exception):
    """Raise from a route to answer with the envelope."""

    def __init__(self, status: int, code: str, message: str, details=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


def limit_exceeded(message: str, **details) -> ApiError:
    return ApiError(422, "limit_exceeded", message, details or None)


def not_found(message: str, **details) -> ApiError:
    return ApiError(404, "not_found", message, details or None)


def envelope(status: int, code: str, message: str, details=None, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}},
                        status_code=status, headers=headers)


def _clean_validation(errors) -> list:
    out = []
    for err in errors:
        item = {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", "")),
                "type": str(err.get("type", ""))}
        out.append(item)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such resource: {request.url.path}"
        return envelope(exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = _clean_validation(exc.errors())
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            # pydantic's loc is ["body", <character offset>]: not a field
            at = first["loc"][1] if len(first["loc"]) > 1 else "?"
            return envelope(422, "validation_error", f"the request body is not valid JSON "
                            f"(at character {at}): {first['msg']}", errors)
        where = ".".join(p for p in first["loc"] if p not in ("body",)) or "request"
        return envelope(422, "validation_error", f"invalid {where}: {first['msg']}", errors)

    @app.exception_handler(CatalogError)
    async def _catalog(request: Request, exc: CatalogError):
        return envelope(404, "not_found", str(exc))

    @app.exception_handler(TimeError)
    async def _time(request: Request, exc: TimeError):
        return envelope(422, "validation_error", str(exc))

    @app.exception_handler(SatwatchError)
    async def _satwatch(request: Request, exc: SatwatchError):
        return envelope(422, "bad_request", str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return envelope(500, "internal_error",
                        "the server failed on this request; it has been logged", None)
