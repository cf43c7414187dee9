"""Session ids are shown by the admin CLI and pasted back into it (`revoke-session EMAIL ID`); one that
began with '-' would be read as an option there, so none does."""

from __future__ import annotations

import pytest

from shared.credentials import refresh_tokens
from shared.credentials.refresh_tokens import SESSION_ID, new_session_id


def test_a_session_id_never_begins_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 encodes to '-' as the first base64url character; the second draw does not
    draws = iter([b"\xf8" + bytes(15), b"\x04" + bytes(15)])
    monkeypatch.setattr(refresh_tokens.secrets, "token_bytes", lambda size: next(draws))
    sid = new_session_id()
    assert not sid.startswith("-") and SESSION_ID.fullmatch(sid)
    assert sid == "BAAAAAAAAAAAAAAAAAAAAA"


def test_session_ids_stay_random_and_well_formed() -> None:
    ids = {new_session_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(SESSION_ID.fullmatch(sid) and not sid.startswith("-") for sid in ids)
