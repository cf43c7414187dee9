"""The emails that tell users about changes to their account, each a setting (NOTIFICATIONS).

They carry no attacker text (issue 23, finding 7): a device is named by its parsed browser, OS and
device (shared/mail/plain_text.py), never by the User-Agent header, and a name someone chose (a
passkey's) is bounded and stripped of links and markup."""

from __future__ import annotations

from shared.core.clock import iso_time
from shared.core.observability import Client, logger
from shared.mail.plain_text import MAX_PART, device_text, inert
from shared.mail.sending import MailNotSent, render, send
from shared.runtime.services import Services
from shared.store.user_items import User


def notify(services: Services, user: User, template: str, **values: str) -> None:
    """Email the user about their account, when that notification is on; a failure is logged, never
    raised (the change it reports has happened)."""
    notify_address(services, user.email, user.name, template, **values)


def notify_address(services: Services, email: str, name: str, template: str, **values: str) -> None:
    """`notify`, to an account known by its email and name only (a signed-in caller's claims)."""
    settings = services.settings
    if template not in settings.notifications or not settings.mail_sender:
        return
    try:
        send(settings, render(template, email, name=name, email=email, **values))
    except MailNotSent as error:
        logger.warning("notification not sent", extra={"template": template, "reason": error.reason})


def notify_password_changed(services: Services, user: User, client: Client) -> None:
    notify(services, user, "password_changed", time=iso_time(services.clock.now_ms()))


def notify_new_device(services: Services, user: User, client: Client) -> None:
    _notify_sign_in(services, user, client, "new_device")


def notify_recovery_code_used(services: Services, user: User, client: Client) -> None:
    _notify_sign_in(services, user, client, "recovery_code_used")


def _notify_sign_in(services: Services, user: User, client: Client, template: str, **values: str) -> None:
    device = device_text(client.user_agent)
    at = iso_time(services.clock.now_ms())
    notify(services, user, template, time=at, device=device, ip=client.source_ip or "unknown", **values)


def notify_passkey_added(services: Services, email: str, name: str, passkey: str, client: Client) -> None:
    notify_factor_changed(
        services, email, name, "passkey_added", client, passkey=inert(passkey, MAX_PART) or "unnamed"
    )


def notify_factor_changed(
    services: Services, email: str, name: str, template: str, client: Client, **values: str
) -> None:
    """A second factor was added or removed (`template`: passkey_added, passkey_removed, totp_added,
    totp_removed): when, from which device and IP."""
    device = device_text(client.user_agent)
    at = iso_time(services.clock.now_ms())
    notify_address(
        services, email, name, template, time=at, device=device, ip=client.source_ip or "unknown", **values
    )


def notify_ceiling(services: Services, user: User, client: Client) -> None:
    """Failed logins reached the account-wide ceiling: new places now need an emailed code."""
    _notify_sign_in(services, user, client, "login_ceiling")


def notify_codes_failed(services: Services, user: User, client: Client, count: int, unlock_url: str) -> None:
    """The password was right and then `count` codes in a row were wrong: code login is closed until
    `unlock_url` (or a recovery code, or a passkey)."""
    minutes = str(services.settings.reset_link_ttl // 60)
    _notify_sign_in(
        services, user, client, "codes_failed", count=str(count), link=unlock_url, minutes=minutes
    )
