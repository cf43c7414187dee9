"""One-time links (invitations, password resets, code unlocks).

A link carries a token of 256 random bits; only its SHA-256 is stored
(shared/store/links.py), with the account version it was issued for and its expiry. It is used by
one transaction that deletes it on the condition that it is still there and still the account's
current link, and changes the account on the condition that it is still at that version: so a link
works once, ever; a newer link, a password change or any other account change kills it; of two
requests with one link exactly one wins. Every kind of bad link gets the same 400 naming `token`.
"""

from __future__ import annotations

from typing import NoReturn

from shared.core.errors import InvalidLink, Reason
from shared.core.observability import Client, Event, audit
from shared.runtime.services import Services
from shared.store import links as store_links
from shared.store.links import INVITATION, RESET, UNLOCK, Link, LinkStore, token_hash
from shared.store.user_items import User

_REFUSED = {INVITATION: Event.INVITATION_LINK, RESET: Event.RESET_LINK, UNLOCK: Event.UNLOCK_LINK}

TOKEN_LENGTH = 43  # token_urlsafe(32)
MAIL = "Amazon SES"


def links_of(services: Services) -> LinkStore:
    return LinkStore(services.users.table, services.users.dynamodb)


def new_link(purpose: str, user: User, expires: int) -> tuple[str, Link]:
    return store_links.new_link(purpose, user.user_type, user.email, user.version, expires)


def is_token_shaped(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


def usable_link(services: Services, token: str, purpose: str, at: int, client: Client) -> tuple[Link, User]:
    """The live link of that purpose the token names and its account at the version it was issued
    for, or InvalidLink (the same answer for every kind of bad link)."""
    if not is_token_shaped(token):
        refuse_link(purpose, Reason.MALFORMED, client)
    found = links_of(services).find(token_hash(token))
    if found is None or found.purpose != purpose:
        refuse_link(purpose, Reason.UNKNOWN_LINK, client)
    if not found.is_live(at):
        refuse_link(purpose, Reason.LINK_EXPIRED, client)
    user = services.users.get(found.user_type, found.email)
    if user is None or user.version != found.user_version:
        refuse_link(purpose, Reason.ACCOUNT_CHANGED, client, user.user_id if user else "")
    return found, user


def refuse_link(purpose: str, reason: Reason, client: Client, user_id: str = "") -> NoReturn:
    audit(_REFUSED[purpose], "rejected", client, user_id=user_id, reason=reason)
    raise InvalidLink(reason)
