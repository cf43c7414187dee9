"""The mail the service sent through the embedded moto's SES: what the demo page's outbox shows and
the end-to-end tests read. moto runs in this process (local/aws_backend.py), so its record of sent
mail is read directly."""

from __future__ import annotations

import html
import re
from typing import Any

from local.constants import ACCOUNT_ID, REGION

_LINK = re.compile(r'href="([^"]+)"')


def messages() -> list[dict[str, Any]]:
    """Every email sent so far, newest first: recipients, subject, body (HTML) and its links."""
    from moto.ses.models import ses_backends

    sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
    return [
        {
            "id": message.id,
            "to": [address for addresses in message.destinations.values() for address in addresses],
            "subject": message.subject,
            "body": message.body,
            "links": [html.unescape(found) for found in _LINK.findall(message.body)],
        }
        for message in reversed(sent)
    ]
