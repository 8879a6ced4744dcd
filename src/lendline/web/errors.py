"""Map domain errors to HTTP in one place: ``{"error": "<stable_code>", "detail": "..."}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lendline.errors import LendlineError, PolicyViolation, RuleError, ValidationError

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LendlineError)
    async def _lendline_error(_req: Request, exc: LendlineError) -> JSONResponse:
        body: dict[str, object] = {"error": exc.code, "detail": exc.detail}
        if isinstance(exc, ValidationError) and exc.field:
            body["field"] = exc.field
        if isinstance(exc, RuleError) and exc.line is not None:
            body["line"] = exc.line
        if isinstance(exc, PolicyViolation):
            body["reasons"] = exc.reasons
        return JSONResponse(body, status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        detail = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg"))
        return JSONResponse(
            {
                "error": "invalid_input",
                "detail": detail,
                "field": field,
                "errors": [
                    {"field": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg")}
                    for e in errors
                ],
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "detail": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
