"""Which browser origins passkey ceremonies may run on, from the relying-party id: the functions
(shared/config/settings.py) and the stack (infra/config.py) apply the same rule. Standard library only.

WebAuthn binds a credential to its relying-party id, which must be the page's host or a registrable
suffix of it; an origin elsewhere could never complete a ceremony, so listing one is a mistake."""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.config.parsing import InvalidTunable


def on_rp_id(origin: str, rp_id: str) -> bool:
    """Whether `origin`'s host is `rp_id` or under it."""
    host = (urlsplit(origin).hostname or "").lower()
    return bool(rp_id) and (host == rp_id or host.endswith(f".{rp_id}"))


def passkey_origins(rp_id: str, explicit: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The origins given, or else the allowed (CORS) origins on the relying-party id; none when
    passkeys are off (no relying-party id)."""
    if not rp_id:
        return ()
    return explicit or tuple(origin for origin in allowed if on_rp_id(origin, rp_id))


def check_passkey_origins(rp_id: str, explicit: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """With a relying-party id, at least one origin, every one on it."""
    if not rp_id:
        return
    stray = [origin for origin in explicit if not on_rp_id(origin, rp_id)]
    if stray:
        raise InvalidTunable(
            f"WEBAUTHN_ORIGINS entries must be on the relying-party id {rp_id!r} (its host or a "
            f"subdomain): {', '.join(stray)}"
        )
    if not passkey_origins(rp_id, explicit, allowed):
        raise InvalidTunable(
            f"WEBAUTHN_RP_ID is {rp_id!r} but no origin is on it: set WEBAUTHN_ORIGINS, or list the "
            "frontend in ALLOWED_ORIGINS"
        )
