"""The embedded moto server that plays DynamoDB, KMS and Secrets Manager for the local API.

moto is not thread-safe (a cancelled DynamoDB transaction restores a copy of the whole table,
losing any write made meanwhile), so every call into it runs under one lock: concurrent requests
to the local API still race in the handlers and the store, but never inside moto.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SerialisedApp:
    """A WSGI app that lets one request at a time through (the body fully produced under the lock)."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            result = self._app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def back_up_each_table_once_per_transaction() -> None:
    """moto backs up (deep-copies) a whole table once per *item* of a TransactWriteItems, so a
    refresh rotation (three items on the sessions table) copied it three times. The same rollback
    needs one copy per table: under load this makes local transactions about three times cheaper.
    Safe because every moto call here runs alone (SerialisedApp)."""
    import copy
    import types

    from moto.dynamodb import models

    if getattr(models.DynamoDBBackend.transact_write_items, "backs_up_once", False):
        return
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: dict[int, Any] = {}

        def deepcopy(value: Any, memo: Any = None) -> Any:
            if not isinstance(value, models.Table):
                return copy.deepcopy(value, memo)
            if id(value) not in backups:
                backups[id(value)] = copy.deepcopy(value, memo)
            return backups[id(value)]

        models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment]
        try:
            original(self, transact_items)
        finally:
            models.copy = copy

    transact_write_items.backs_up_once = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class EmbeddedMoto:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        back_up_each_table_once_per_transaction()
        app = SerialisedApp(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# moto serialises every call here and copies whole tables inside each transaction, so under
# concurrent load its answers queue for longer than DynamoDB's ever would. The functions' 1 s read
# timeout is right for AWS; locally it would turn that queue into spurious 503s, so the local API
# gives its clients more time (connect timeout, retries and everything else unchanged).
LOCAL_READ_TIMEOUT_SECONDS = 15


def relax_read_timeout() -> None:
    """Call before any handler creates its boto3 clients."""
    from botocore.config import Config

    from shared.core import aws

    aws.CLIENT_CONFIG = aws.CLIENT_CONFIG.merge(Config(read_timeout=LOCAL_READ_TIMEOUT_SECONDS))
    aws.reset_clients()
