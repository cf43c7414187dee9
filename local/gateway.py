"""A local stand-in for API Gateway (REST API, Lambda proxy integration, REQUEST authorizer).

Routes come from the single route declaration. For each request it does what API Gateway does:
CORS preflight for the allowed origins; unknown routes -> 403 "Missing Authentication Token";
on protected routes a missing or empty Authorization header -> 401 without calling the
authorizer, else the authorizer first (its answer cached per Authorization header for the
configured TTL), its IAM policy evaluated against the methodArn (deny -> 403), its context passed
to the function in requestContext.authorizer; then the function with a real-shaped proxy event,
its proxy result turned into the HTTP response. Gateway responses carry the same CORS and
security headers as the functions' responses, as the stack's gateway responses do.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from local.constants import ACCOUNT_ID, API_ID, REGION, STAGE
from local.events import ApiStage, authorizer_event, encoded_body, proxy_event, request_event
from local.policy import PolicyError, is_allowed, statements
from local.runtime import AUTHORIZER, Functions
from shared.config.settings import Settings
from shared.http.proxy import CORS_ALLOW_METHODS, SECURITY_HEADERS, cors_headers, render_access_denied
from shared.routes.declaration import Route, RouteTable
from shared.routes.request_models import INVALID_BODY, REQUEST_MODELS, body_problems

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
PREFLIGHT_MAX_AGE = "600"
LOCAL_API = ApiStage(REGION, ACCOUNT_ID, API_ID, STAGE)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query string, as received
    headers: list[tuple[str, str]]  # in order, names as sent
    body: bytes
    source_ip: str

    def header(self, name: str) -> str:
        """The last value of a header (API Gateway's `headers` keeps the last one)."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else ""


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str
    authorizer: str = "-"  # how the authorizer took part, for the request log line
    function: str = "-"  # the function that answered, for the request log line


@dataclass
class _Authorization:
    """Outcome of the authorizer step: the context to pass on, or the gateway's refusal."""

    context: dict[str, str] | None = None
    refusal: HttpResponse | None = None
    label: str = "-"


@dataclass
class _CacheEntry:
    answer: dict[str, Any]
    expires: float


@dataclass
class AuthorizerCache:
    """API Gateway's authorizer result cache: key = the identity source (Authorization header)."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _CacheEntry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> dict[str, Any] | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= self.clock():
                del self._entries[key]
                return None
            return entry.answer

    def put(self, key: str, answer: dict[str, Any]) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            now = self.clock()
            self._entries = {k: e for k, e in self._entries.items() if e.expires > now}
            self._entries[key] = _CacheEntry(answer, now + self.ttl)


def method_arn(method: str, path: str) -> str:
    return LOCAL_API.method_arn(method, path)


class Gateway:
    def __init__(
        self,
        routes: RouteTable,
        functions: Functions,
        settings: Settings,
        *,
        cache_ttl: float = 0,
        openapi_file: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.settings = settings
        self.cache = AuthorizerCache(cache_ttl, clock)
        self.openapi_file = openapi_file

    # -- entry point -------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        raw_path, _, query = request.target.partition("?")
        path = unquote(raw_path) or "/"
        origin = request.header("origin")
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return self.payload_too_large(origin)
        if request.method == "OPTIONS":
            return self._preflight(path, origin, request_id)
        if (
            request.method == "GET"
            and path == "/openapi.json"
            and self.openapi_file
            and self.openapi_file.is_file()
        ):
            return self._openapi(origin, request_id)
        found = self.routes.find(request.method, path)
        if found is None:
            return self._missing_authentication_token(origin, request_id)
        route, parameters = found
        base = request_event(
            LOCAL_API,
            request.method,
            path,
            resource=route.path,
            headers=request.headers,
            source_ip=request.source_ip,
            request_id=request_id,
            query=query,
            path_parameters=parameters,
            domain=request.header("host") or "127.0.0.1",
        )
        authorization = _Authorization()
        if not route.public:
            authorization = self._authorize(request, base, origin, request_id)
            if authorization.refusal is not None:
                authorization.refusal.authorizer = authorization.label
                return authorization.refusal
        if route.body:  # API Gateway's request validator, with the stack's own models
            problems = body_problems(REQUEST_MODELS[route.body], request.body)
            if problems:
                refusal = self.gateway_response(
                    400, INVALID_BODY, "BadRequestException", origin, request_id, detail="; ".join(problems)
                )
                refusal.authorizer = authorization.label
                return refusal
        response = self._integrate(route, request, base, authorization.context, origin, request_id)
        response.authorizer, response.function = authorization.label, route.function
        return response

    # -- gateway responses ---------------------------------------------------------------------

    def payload_too_large(self, origin: str) -> HttpResponse:
        return self.gateway_response(413, "Request Too Long", "RequestTooLarge", origin, str(uuid.uuid4()))

    def _headers(self, origin: str, request_id: str) -> list[tuple[str, str]]:
        merged = {**SECURITY_HEADERS, **cors_headers(origin, self.settings)}
        return [*merged.items(), ("x-amzn-RequestId", request_id)]

    def gateway_response(
        self,
        status: int,
        message: str | None,
        error_type: str,
        origin: str,
        request_id: str,
        detail: str | None = None,
    ) -> HttpResponse:
        headers = [
            *self._headers(origin, request_id),
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error_type),
        ]
        answer = {"message": message, **({"detail": detail} if detail is not None else {})}
        body = json.dumps(answer).encode()
        return HttpResponse(status, headers, body, request_id)

    def _missing_authentication_token(self, origin: str, request_id: str) -> HttpResponse:
        """The answer to a route the API does not have (any path or method not declared): API
        Gateway's MISSING_AUTHENTICATION_TOKEN response, which the stack turns into a 404."""
        return self.gateway_response(
            404, "Not found", "MissingAuthenticationTokenException", origin, request_id
        )

    def _preflight(self, path: str, origin: str, request_id: str) -> HttpResponse:
        known = any(route.match(route.method, path) is not None for route in self.routes.routes)
        if not known:
            return self._missing_authentication_token(origin, request_id)
        headers = self._headers(origin, request_id)
        if origin in self.settings.allowed_origins:
            headers += [
                ("Access-Control-Allow-Methods", CORS_ALLOW_METHODS),
                ("Access-Control-Allow-Headers", self.settings.cors_allow_headers),
                ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
            ]
        return HttpResponse(204, headers, b"", request_id)

    def _openapi(self, origin: str, request_id: str) -> HttpResponse:
        assert self.openapi_file is not None  # type narrowing, checked by the caller
        headers = [*self._headers(origin, request_id), ("Content-Type", "application/json")]
        return HttpResponse(200, headers, self.openapi_file.read_bytes(), request_id)

    # -- the REQUEST authorizer ----------------------------------------------------------------

    def _authorize(
        self, request: HttpRequest, base: dict[str, Any], origin: str, request_id: str
    ) -> _Authorization:
        sent = [value for name, value in request.headers if name.lower() == "authorization"]
        if len(sent) != 1 or not sent[0].strip():
            # None, or several (the authorizer would verify one and the cache key on another):
            # refused before the authorizer, and nothing cached.
            refusal = self.gateway_response(401, "Unauthorized", "UnauthorizedException", origin, request_id)
            return _Authorization(refusal=refusal, label="ambiguous" if len(sent) > 1 else "none")
        authorization = sent[0]
        arn = method_arn(request.method, base["path"])
        answer = self.cache.get(authorization)
        cached = answer is not None
        if answer is None:
            event = authorizer_event(base, arn)
            try:
                answer = validated_answer(self.functions.invoke(AUTHORIZER, event))
            except Exception as error:
                if str(error) == "Unauthorized":
                    refusal = self.gateway_response(
                        401, "Unauthorized", "UnauthorizedException", origin, request_id
                    )
                    return _Authorization(refusal=refusal, label="unauthorized")
                traceback.print_exc()
                refusal = self.gateway_response(
                    500, None, "AuthorizerConfigurationException", origin, request_id
                )
                return _Authorization(refusal=refusal, label="error")
            self.cache.put(authorization, answer)
        prefix = "cached-" if cached else ""
        context = {key: _context_string(value) for key, value in (answer.get("context") or {}).items()}
        if not is_allowed(answer["policyDocument"], arn):
            refusal = self.gateway_response(
                403,
                "User is not authorized to access this resource",
                "AccessDeniedException",
                origin,
                request_id,
            )
            refusal.body = render_access_denied(
                "User is not authorized to access this resource", context
            ).encode()
            return _Authorization(
                refusal=refusal, label=prefix + ("step-up" if context.get("step_up") else "deny")
            )
        context["principalId"] = answer["principalId"]
        return _Authorization(context=context, label=prefix + "allow")

    # -- the Lambda proxy integration ------------------------------------------------------------

    def _integrate(
        self,
        route: Route,
        request: HttpRequest,
        base: dict[str, Any],
        authorizer: dict[str, str] | None,
        origin: str,
        request_id: str,
    ) -> HttpResponse:
        body, is_base64 = encoded_body(request.body)
        event = proxy_event(base, body, is_base64=is_base64, authorizer=authorizer)
        try:
            result = self.functions.invoke(route.function, event)
            return proxy_response(result, request_id)
        except Exception:
            traceback.print_exc()
            return self.gateway_response(
                502, "Internal server error", "InternalServerErrorException", origin, request_id
            )


def _context_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def validated_answer(answer: object) -> dict[str, Any]:
    """The authorizer's answer if API Gateway could use it, else PolicyError (-> 500)."""
    if not isinstance(answer, dict):
        raise PolicyError("the authorizer must return an object")
    principal = answer.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise PolicyError("principalId must be a non-empty string")
    statements(answer.get("policyDocument"))
    context = answer.get("context")
    if context is not None and (
        not isinstance(context, dict)
        or not all(isinstance(value, str | int | float | bool) for value in context.values())
    ):
        raise PolicyError("context values must be strings, numbers or booleans")
    return answer


def proxy_response(result: object, request_id: str) -> HttpResponse:
    """A Lambda proxy result as HTTP; anything malformed raises (-> 502, as API Gateway answers)."""
    if not isinstance(result, dict):
        raise TypeError("the function returned no proxy result object")
    status = int(result["statusCode"])
    if not 100 <= status <= 599:
        raise ValueError(f"statusCode {status} is out of range")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers += [(str(name), str(value)) for value in values]
    seen = {name.lower() for name in multi}
    headers += [
        (str(k), str(v)) for k, v in (result.get("headers") or {}).items() if str(k).lower() not in seen
    ]
    headers.append(("x-amzn-RequestId", request_id))
    raw = result.get("body") or ""
    if not isinstance(raw, str):
        raise TypeError("body must be a string")
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    return HttpResponse(status, headers, body, request_id)
