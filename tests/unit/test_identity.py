"""The one JSON shape of a user (login's `user`, /auth/me, the users CLI) and the identity of a
record or of the authorizer's verified claims."""

from __future__ import annotations

from shared.credentials.access_tokens import AccessClaims
from shared.credentials.identity import Identity
from shared.store.users import User

ANN = Identity("u1", "ann@example.com", "Ann", "sales", "staff")


def test_a_user_is_shown_as_id_email_name_role_type_in_that_order() -> None:
    shown = ANN.as_json()
    assert shown == {"id": "u1", "email": "ann@example.com", "name": "Ann", "role": "sales", "type": "staff"}
    assert list(shown) == ["id", "email", "name", "role", "type"]


def test_the_identity_of_a_stored_user_and_of_verified_claims() -> None:
    user = User("u1", "ann@example.com", "Ann", "sales", "staff", "hash", disabled=False, created_at=0)
    claims = AccessClaims(
        sub="u1",
        jti="j",
        sid="s",
        email="ann@example.com",
        name="Ann",
        role="sales",
        user_type="staff",
        iat=0,
        exp=0,
    )
    assert Identity.of(user) == ANN
    assert claims.identity == ANN
