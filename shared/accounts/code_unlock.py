"""POST /auth/mfa/unlock {token}: the link emailed when MFA_FAILURE_LIMIT wrong codes in a row
closed code login (shared/mfa/login_step.py) reopens it, once. It proves the mailbox only: the
password and a code are still needed to sign in."""

from __future__ import annotations

from shared.accounts.links import links_of, refuse_link, usable_link
from shared.core.errors import Reason
from shared.core.observability import Client, Event, audit
from shared.runtime.services import Services
from shared.store.dynamo import TransactionRejected, transact_write
from shared.store.links import UNLOCK
from shared.store.user_items import code_lock_key


def unlock_codes(services: Services, token: str, client: Client) -> None:
    at = services.clock.now_ms()
    unlock, user = usable_link(services, token, UNLOCK, at, client)
    operations = [
        *links_of(services).use_operations(unlock),
        *services.users.reset_attempts_operations([code_lock_key(user.user_id)]),
    ]
    try:
        transact_write(services.users.dynamodb, operations)
    except TransactionRejected:  # used meanwhile by another request
        refuse_link(UNLOCK, Reason.UNKNOWN_LINK, client, user.user_id)
    audit(Event.MFA_UNLOCKED, "success", client, user_id=user.user_id)
