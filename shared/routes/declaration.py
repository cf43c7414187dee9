"""The single route declaration: which routes exist, which function serves each, who may call it.

The CDK stack wires API Gateway from it, the authorizer builds its policies from it and the local
API routes requests with it. Another API brings its own file in the same format.

Format: {"api": name, "audience"?: the `aud` this API requires, "user_types"?: [...], "roles"?:
[...], "routes": [{"method", "path", "function", "public"?: true, "allow"?: {"types"?: [...],
"roles"?: [...]}, "body"?: model name, "demo"?: true, "step_up"?: {"max_age": seconds}}]}. An empty
"allow" means any signed-in user; "types" and "roles" both given must both hold. "step_up" makes a
route demand a login with a second factor (`amr` holds "mfa") made at most `max_age` seconds ago
(`auth_time`); the authorizer checks it from the token alone. `user_types` are the kinds of account
that can log in (the auth API declares them; a route may name only those); `roles` are the roles an
account may be given besides those the routes name. Adding a user type or a role is a change to this
file only. Without an `audience` the API accepts the service's own (AUDIENCE); with one, the service
must list it in EXTRA_AUDIENCES.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from shared.config.tunables import AUDIENCE_PATTERN
from shared.core.errors import ConfigurationError
from shared.routes.wildcards import wildcard_matches

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MULTI_FACTOR = "mfa"  # RFC 8176: the login used more than one factor
MAX_STEP_UP_SECONDS = 24 * 3600
_PATH = re.compile(r"^(/([A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\}))+$")
_PARAMETER = re.compile(r"\{[A-Za-z][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    public: bool = False
    types: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    body: str | None = None
    demo: bool = False
    step_up: int = 0  # seconds a second-factor login stays fresh enough for this route; 0: no step-up

    @property
    def resource(self) -> str:
        """The route as an execute-api resource suffix: `METHOD/path` with parameters as `*`."""
        return f"{self.method}{_PARAMETER.sub('*', self.path)}"

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(name[1:-1] for name in _PARAMETER.findall(self.path))

    def allows(self, user_type: str, role: str) -> bool:
        if self.public:
            return False
        return (not self.types or user_type in self.types) and (not self.roles or role in self.roles)

    def strong_enough(self, amr: tuple[str, ...], auth_time: int, now: float) -> bool:
        """Whether a token with these `amr` and `auth_time` may use this route at `now`."""
        if not self.step_up:
            return True
        return MULTI_FACTOR in amr and now - auth_time <= self.step_up

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when `method path` is this route, else None."""
        if method != self.method:
            return None
        wanted = self.path.strip("/").split("/")
        given = path.strip("/").split("/")
        if len(wanted) != len(given):
            return None
        parameters = {}
        for pattern, value in zip(wanted, given, strict=True):
            if _PARAMETER.fullmatch(pattern):
                if not value:
                    return None
                parameters[pattern[1:-1]] = value
            elif pattern != value:
                return None
        return parameters


@dataclass(frozen=True)
class RouteTable:
    api: str
    routes: tuple[Route, ...]
    user_types: tuple[str, ...] = ()
    declared_roles: tuple[str, ...] = ()
    audience: str | None = None
    # The authorizer's per-request cache is keyed on the table: its routes are hashed once, not per call.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.api, self.routes, self.user_types, self.audience)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role an account may hold: the declared ones and every one a route names."""
        named = (role for route in self.routes for role in route.roles)
        return tuple(dict.fromkeys((*self.declared_roles, *named)))

    def protected(self) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if not route.public)

    def allowed_for(self, user_type: str, role: str) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if route.allows(user_type, role))

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None


def _parse_route(raw: object, index: int) -> Route:
    where = f"routes[{index}]"
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where} must be an object")
    unknown = set(raw) - {"method", "path", "function", "public", "allow", "body", "demo", "step_up"}
    if unknown:
        raise ConfigurationError(f"{where} has unknown keys {sorted(unknown)}")
    method, path, function = raw.get("method"), raw.get("path"), raw.get("function")
    if method not in METHODS:
        raise ConfigurationError(f"{where}.method must be one of {METHODS}")
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise ConfigurationError(f"{where}.path {path!r} is not a valid resource path")
    if not isinstance(function, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", function):
        raise ConfigurationError(f"{where}.function must be a lower-case identifier")
    public = raw.get("public", False) is True
    allow = raw.get("allow")
    if public == (allow is not None):
        raise ConfigurationError(f"{where} must be either public or carry an 'allow' rule")
    types: list[str] = []
    roles: list[str] = []
    if allow is not None:
        if not isinstance(allow, dict) or set(allow) - {"types", "roles"}:
            raise ConfigurationError(f"{where}.allow may hold only 'types' and 'roles'")
        types, roles = allow.get("types", []), allow.get("roles", [])
        for name, values in (("types", types), ("roles", roles)):
            if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
                raise ConfigurationError(f"{where}.allow.{name} must be a list of names")
    body = raw.get("body")
    if body is not None and not isinstance(body, str):
        raise ConfigurationError(f"{where}.body must be a model name")
    step_up = _step_up(raw.get("step_up"), where, public=public)
    return Route(
        method=method,
        path=path,
        function=function,
        public=public,
        types=tuple(types),
        roles=tuple(roles),
        body=body,
        demo=raw.get("demo", False) is True,
        step_up=step_up,
    )


def _step_up(raw: object, where: str, *, public: bool) -> int:
    if raw is None:
        return 0
    if public:
        raise ConfigurationError(f"{where} is public: it cannot demand a step-up")
    max_age = raw.get("max_age") if isinstance(raw, dict) and set(raw) == {"max_age"} else None
    if not isinstance(max_age, int) or isinstance(max_age, bool) or not 0 < max_age <= MAX_STEP_UP_SECONDS:
        raise ConfigurationError(
            f'{where}.step_up must be {{"max_age": seconds}} with 1 to {MAX_STEP_UP_SECONDS} seconds'
        )
    return max_age


def _check_wildcards_do_not_widen(routes: tuple[Route, ...]) -> None:
    """A `*` in an IAM resource also spans `/`: `GET/cars/*` grants `GET/cars/1/photos` too.

    The authorizer's policy lists the routes a caller may use, so a route whose wildcard covers
    another route with different rules would grant that other route. Refuse such a declaration.
    """
    protected = [route for route in routes if not route.public]
    for wide in protected:
        for other in protected:
            if other is wide or (wide.types, wide.roles, wide.step_up) == (
                other.types,
                other.roles,
                other.step_up,
            ):
                continue
            if wildcard_matches(wide.resource, other.resource):
                raise ConfigurationError(
                    f"route {wide.method} {wide.path} would also grant {other.method} {other.path} "
                    "in an IAM policy (a '*' spans '/'): give both the same allow rule"
                )


def parse_route_table(document: object) -> RouteTable:
    if not isinstance(document, dict) or not isinstance(document.get("routes"), list):
        raise ConfigurationError("a route declaration is an object with a 'routes' list")
    api = document.get("api", "api")
    if not isinstance(api, str) or not api:
        raise ConfigurationError("the route declaration's 'api' must be a name")
    routes = tuple(_parse_route(raw, index) for index, raw in enumerate(document["routes"]))
    seen: set[tuple[str, str]] = set()
    for route in routes:
        key = (route.method, _PARAMETER.sub("{}", route.path))
        if key in seen:
            raise ConfigurationError(f"route {route.method} {route.path} is declared twice")
        seen.add(key)
    _check_wildcards_do_not_widen(routes)
    user_types, roles = _names(document, "user_types"), _names(document, "roles")
    for route in routes:
        strangers = set(route.types) - set(user_types)
        if user_types and strangers:
            raise ConfigurationError(
                f"route {route.method} {route.path} names user types {sorted(strangers)} that 'user_types' "
                f"does not declare ({', '.join(user_types)})"
            )
    audience = document.get("audience")
    if audience is not None and not (isinstance(audience, str) and re.fullmatch(AUDIENCE_PATTERN, audience)):
        raise ConfigurationError("the route declaration's 'audience' must be a plain identifier or URL")
    return RouteTable(api=api, routes=routes, user_types=user_types, declared_roles=roles, audience=audience)


def _names(document: dict[str, object], key: str) -> tuple[str, ...]:
    values = document.get(key, [])
    if not isinstance(values, list) or not all(
        isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value) for value in values
    ):
        raise ConfigurationError(f"the route declaration's '{key}' must be a list of names")
    return tuple(values)


@functools.cache
def load_route_table(path: str) -> RouteTable:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot read the route declaration {path}: {error}") from None
    return parse_route_table(document)
