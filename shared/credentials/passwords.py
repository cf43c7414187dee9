"""Passwords: the policy every new password meets, and hashing with argon2id (OWASP: m=19456 KiB,
t=2, p=1 at least)."""

from __future__ import annotations

import functools
import secrets
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shared.config.tunables import DEFAULTS
from shared.core.errors import BadRequest
from shared.credentials.password_context import context_names, is_built_from

if TYPE_CHECKING:
    from shared.config.settings import Settings

MEMORY_COST_KIB = 19456
TIME_COST = 2
PARALLELISM = 1
MAX_PASSWORD_BYTES = 1024
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def prepare_dummy_hash() -> str:
    # Created on first use, not at import: a snapshot-restored container must not share it.
    return hasher.hash(secrets.token_urlsafe(16))


def dummy_verify(password: str) -> None:
    """Spend the same work as a real verification, for unknown users."""
    verify_password(prepare_dummy_hash(), password)


def check_password_policy(
    password: str, field: str, email: str = "", settings: Settings | None = None, *, name: str = ""
) -> None:
    """Length 12 to 128 characters (never truncated), not the email, not built from the service's
    own names (PASSWORD_CONTEXT_WORDS), the user's `name` or the parts of their email, not a common
    password (nor one with its case changed or the usual digits and symbols added), and, when
    PWNED_PASSWORDS is on (`settings` given), not one the Pwned Passwords range API knows. Every
    path that sets a password calls this one function."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(field, f"{field} must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(field, f"{field} must be at most {MAX_PASSWORD_LENGTH} characters")
    if email and password.lower().strip() == email.lower():
        raise BadRequest(field, f"{field} must not be your email address")
    words = settings.password_context_words if settings else DEFAULTS["password_context_words"]
    if is_built_from(password, context_names(words, name, email)):
        raise BadRequest(
            field, f"{field} must not be built from your name, your email address or the service's name"
        )
    # Here, not at the top: only the paths that set a password load the list (login never does).
    from shared.credentials.breached_passwords import check_not_breached

    check_not_breached(password, field, settings)
