"""Issue 23, finding 7: the emails carry no attacker text. A notification names the device by its
parsed browser, OS and device, each part bounded and stripped of anything a mail client turns into a
link (URLs, '://', 'www.', bare domains, addresses, markup), never the raw User-Agent header."""

from __future__ import annotations

import re

import pytest

from shared.mail.plain_text import MAX_PART, device_text, inert

HOSTILE_AGENTS = [
    # the parser's device part is taken from the header: markup and a domain come through
    "Mozilla/5.0 (Linux; Android 10; <a href=x>evil.com</a> Build/QP1A) AppleWebKit/537.36 "
    "Chrome/120 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    'Safari/537.36 <a href="https://evil.example/reset">Reset your password</a> www.evil.example',
    "www.evil-bank.com bot/1.0",
    "evil.example/2.0 (<b>x</b>)",
    "https://evil.example/1.0",
    "evilspider/1.0 (+http://evil.example/bot)",
    "x" * 5000,
]
LINKABLE = re.compile(r"://|www\.|[A-Za-z0-9-]\.[A-Za-z]{2}|[<>@&\"']|evil\.|href", re.IGNORECASE)


@pytest.mark.parametrize("user_agent", HOSTILE_AGENTS, ids=lambda agent: agent[:30])
def test_23_7_a_device_description_holds_nothing_a_mail_client_turns_into_a_link(user_agent: str) -> None:
    text = device_text(user_agent)
    assert not LINKABLE.search(text), text
    assert len(text) <= 3 * MAX_PART + 20
    assert "evil.com" not in text and "<a" not in text


def test_23_7_a_device_description_is_parsed_not_quoted() -> None:
    agent = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Safari/537.36"
    )
    assert device_text(agent) == "Chrome on Windows"
    assert device_text("") == "an unknown device"
    assert "Mozilla" not in device_text(agent)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Samsung SM-G991B", "Samsung SM-G991B"),
        ("Mac OS X", "Mac OS X"),
        ("<script>alert(1)</script>Phone", "alert(1) Phone"),
        ("see https://evil.example/x now", "see now"),
        ("visit www.evil.example", "visit"),
        ("mail me at a@evil.example", "mail me at"),
        ("evil-bank.com", ""),
        ("hxxp:\u200b//evil\uff0eexample", "hxxp"),
        ("a\nb\tc\x00d", "a b c d"),
    ],
)
def test_23_7_inert_text_drops_links_markup_and_control_characters(raw: str, kept: str) -> None:
    assert inert(raw, MAX_PART) == kept


def test_23_7_inert_text_is_bounded() -> None:
    assert len(inert("word " * 100, MAX_PART)) <= MAX_PART
