"""The functions of functions/<name>/handler.py, loaded once and invoked like Lambda would."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local.constants import ACCOUNT_ID, REGION

AUTHORIZER = "authorizer"  # functions/authorizer: the REQUEST authorizer every protected route uses
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that the handlers (and Powertools) read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    timeout_ms: int = 10_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


class MissingFunction(LookupError):
    """A route names a function whose folder is not there (yet)."""


class Functions:
    """Imports every named function once, at start-up, as Lambda's init phase would."""

    def __init__(self, names: Iterable[str]) -> None:
        self._handlers: dict[str, Handler] = {}
        self.missing: list[str] = []
        for name in sorted(set(names)):
            module_name = f"functions.{name}.handler"
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as error:
                if error.name not in (f"functions.{name}", module_name):
                    raise
                self.missing.append(name)
                continue
            self._handlers[name] = module.handler

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        handler = self._handlers.get(name)
        if handler is None:
            raise MissingFunction(f"functions/{name}/handler.py does not exist")
        return handler(event, LambdaContext(function_name=f"jwt-auth-local-{name}"))
