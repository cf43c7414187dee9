"""Email through Amazon SES (the sesv2 API) from the configured sender, rendered from the templates
in shared/mail/templates/ (plain text and HTML; the text file's first line is the subject). Locally and
in tests the same call reaches moto, which keeps what was sent (the demo page's outbox).

A link's token travels in the URL fragment (`#reset=...`): browsers never send a fragment to a
server nor put it in a Referer. Nothing here logs an address's link, token or body.
"""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from shared.config.settings import Settings
from shared.core import aws
from shared.store.dynamo import error_code

TEMPLATES = Path(__file__).with_name("templates")


class MailNotSent(Exception):
    """The email could not be sent (not configured, refused or failed): `reason` is for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def render(template: str, to: str, **values: str) -> Mail:
    """The email `template` (a name in shared/mail/templates/) to `to`, with `values` filled in (escaped in
    the HTML part)."""
    subject_line, _, text_body = (TEMPLATES / f"{template}.txt").read_text(encoding="utf-8").partition("\n")
    html_body = (TEMPLATES / f"{template}.html").read_text(encoding="utf-8")
    escaped = {name: html.escape(value, quote=True) for name, value in values.items()}
    return Mail(
        to=to,
        subject=string.Template(subject_line.removeprefix("Subject:").strip()).substitute(values),
        text=string.Template(text_body).substitute(values),
        html=string.Template(html_body).substitute(escaped),
    )


def link(settings: Settings, purpose: str, token: str) -> str:
    """The frontend URL that opens a link: the token in the fragment."""
    if not settings.frontend_url:
        raise MailNotSent("no FRONTEND_URL")
    return f"{settings.frontend_url}#{purpose}={token}"


def can_send(settings: Settings) -> bool:
    return bool(settings.mail_sender and settings.frontend_url)


def send(settings: Settings, mail: Mail) -> None:
    if not settings.mail_sender:
        raise MailNotSent("no MAIL_SENDER")
    content = {
        "Simple": {
            "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
            "Body": {
                "Text": {"Data": mail.text, "Charset": "UTF-8"},
                "Html": {"Data": mail.html, "Charset": "UTF-8"},
            },
        }
    }
    extra = (
        {"ConfigurationSetName": settings.mail_configuration_set} if settings.mail_configuration_set else {}
    )
    try:
        aws.client("sesv2").send_email(
            FromEmailAddress=settings.mail_sender,
            Destination={"ToAddresses": [mail.to]},
            Content=content,
            **extra,
        )
    except (ClientError, BotoCoreError) as error:
        raise MailNotSent(error_code(error) or type(error).__name__) from error
