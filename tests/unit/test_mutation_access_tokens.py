"""Access-token verification and the authorizer's decision, rule by rule, asserting the reason code
each rule gives (the hostile-input tests only see `Unauthorized`, so a rule masked by another, or by
PyJWT, would go unnoticed). Local keys and a fixed clock: no AWS, no time passing."""

from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.authorizer.decision import authorization_header, authorize, bearer_token, check_not_revoked
from shared.config.settings import DEFAULT_ROUTES_FILE, Settings
from shared.core.errors import InvalidAccessToken, Reason, ServiceUnavailable
from shared.credentials.access_tokens import (
    MAX_TOKEN_LENGTH,
    AccessClaims,
    issue_access_token,
    verify_access_token,
)
from shared.credentials.identity import Identity
from shared.credentials.signing import KeySet, Signer, VerificationKey, public_jwk, thumbprint
from shared.routes.declaration import load_route_table
from shared.store.denylist import Revocations

NOW = 1_700_000_000.0
ISSUED = int(NOW) - 5  # `iat`; the token's millisecond is ISSUED_MS
ISSUED_MS = ISSUED * 1000 + 250
LEEWAY = 10
OUR_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/test/GET/auth/me"


def _sign(message: bytes, key: rsa.RSAPrivateKey = OUR_KEY) -> bytes:
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def _verification_key(key: rsa.RSAPrivateKey) -> VerificationKey:
    jwk = public_jwk(key.public_key())
    return VerificationKey(thumbprint(jwk), "RS256", key.public_key(), jwk)


OURS = _verification_key(OUR_KEY)
SECOND = _verification_key(OTHER_KEY)  # a second published key (rotation): it verifies too
KEYS = KeySet(Signer(OURS.kid, "RS256", _sign), {OURS.kid: OURS, SECOND.kid: SECOND})
SETTINGS = Settings(
    users_table="users",
    sessions_table="sessions",
    denylist_table="denylist",
    issuer="https://auth.test.example",
    audience="jwt-auth-tests",
    signing_algorithm="RS256",
    signing_key_ids=("key",),
    hs256_secret_arn="",
    refresh_key_secret_arn="secret",
    clock_leeway=LEEWAY,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def seg(value: Any) -> str:
    return b64(value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode())


def header(**overrides: Any) -> dict[str, Any]:
    values = {"alg": "RS256", "typ": "at+jwt", "kid": OURS.kid, **overrides}
    return {name: value for name, value in values.items() if value is not ...}


def claims(**overrides: Any) -> dict[str, Any]:
    values = {
        "iss": SETTINGS.issuer,
        "aud": SETTINGS.audience,
        "sub": "user-1",
        "iat": ISSUED,
        "iat_ms": ISSUED_MS,
        "auth_time": ISSUED,
        "exp": int(NOW) + 600,
        "client_id": "web",
        "jti": "jti-1",
        "sid": "sid-1",
        "email": "someone@example.com",
        "name": "Some One",
        "role": "admin",
        "type": "staff",
        **overrides,
    }
    iat = overrides.get("iat")
    if isinstance(iat, int) and not isinstance(iat, bool) and "iat_ms" not in overrides:
        values["iat_ms"] = iat * 1000  # keep the millisecond claim consistent with an overridden iat
    return {name: value for name, value in values.items() if value is not ...}


def token(head: Any = None, body: Any = None, key: rsa.RSAPrivateKey = OUR_KEY) -> str:
    signing_input = f"{seg(header() if head is None else head)}.{seg(claims() if body is None else body)}"
    return f"{signing_input}.{b64(_sign(signing_input.encode(), key))}"


def reason_for(text: str, now: float = NOW) -> Reason:
    with pytest.raises(InvalidAccessToken) as refused:
        verify_access_token(text, SETTINGS, KEYS, now)
    return refused.value.reason


def test_a_token_we_issued_verifies_to_exactly_its_claims() -> None:
    identity = Identity("user-1", "someone@example.com", "Some One", "admin", "staff")
    issued, expected = issue_access_token(
        identity, "sid-1", SETTINGS, KEYS, at_ms=int(NOW) * 1000 + 250, auth_time=ISSUED, amr=("pwd",)
    )
    assert verify_access_token(issued, SETTINGS, KEYS, NOW) == expected
    assert (expected.iat, expected.iat_ms, expected.auth_time) == (int(NOW), int(NOW) * 1000 + 250, ISSUED)


def test_every_key_of_the_set_verifies_and_the_claims_come_from_the_payload() -> None:
    body = claims(sub="user-2", jti="jti-2", sid="sid-2", email="b@example.com", name="", role="r", type="t")
    verified = verify_access_token(token(header(kid=SECOND.kid), body, OTHER_KEY), SETTINGS, KEYS, NOW)
    assert verified == AccessClaims(
        sub="user-2",
        jti="jti-2",
        sid="sid-2",
        email="b@example.com",
        name="",
        role="r",
        user_type="t",
        iat=ISSUED,
        exp=int(NOW) + 600,
        iat_ms=ISSUED_MS,
        auth_time=ISSUED,
        client_id="web",
    )


@pytest.mark.parametrize("kid", [..., "", "unknown-kid", None, 7, ["kid"], {"kid": "x"}, True])
def test_our_own_signature_with_a_hostile_kid_is_refused_by_the_kid_rule(kid: Any) -> None:
    # Signed with OUR key: only the kid lookup can refuse it (a fallback to our key would accept it)
    assert reason_for(token(header(kid=kid))) == Reason.UNKNOWN_KEY


def test_our_kid_on_another_keys_signature_is_a_bad_signature() -> None:
    assert reason_for(token(header(kid=SECOND.kid))) == Reason.SIGNATURE
    signed = token()
    head, body, signature = signed.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert reason_for(f"{head}.{body}.{flipped}") == Reason.SIGNATURE


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (header(typ="JWT"), Reason.TOKEN_TYPE),
        (header(typ=...), Reason.TOKEN_TYPE),
        (header(typ="AT+JWT"), Reason.TOKEN_TYPE),
        (header(crit=["exp"]), Reason.FORBIDDEN_HEADER),
        (header(crit=["x-unknown"], **{"x-unknown": 1}), Reason.FORBIDDEN_HEADER),
        (header(jku="https://attacker.example/jwks"), Reason.FORBIDDEN_HEADER),
        (header(jwk={"kty": "RSA"}), Reason.FORBIDDEN_HEADER),
        (header(x5u="https://attacker.example/cert"), Reason.FORBIDDEN_HEADER),
        (header(x5c=["MIIB"]), Reason.FORBIDDEN_HEADER),
        (header(b64=False), Reason.FORBIDDEN_HEADER),
        (header(alg="RS512"), Reason.ALGORITHM),
        (header(alg="HS256"), Reason.ALGORITHM),
        (header(alg="none"), Reason.ALGORITHM),
        (header(alg=...), Reason.ALGORITHM),
    ],
)
def test_each_header_rule_gives_its_own_reason(head: dict[str, Any], expected: Reason) -> None:
    # Signed with our key, so PyJWT would refuse some of these too: the reason says our rule did
    assert reason_for(token(head)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a.b",
        "a.b.c.d",
        "a.b.c=",
        "a.b.c ",
        "a..c",
        ".b.c",
        "a.b.",
    ],
)
def test_anything_but_three_base64url_segments_is_malformed(text: str) -> None:
    assert reason_for(text) == Reason.MALFORMED


def test_a_non_string_token_is_malformed() -> None:
    assert reason_for(None) == Reason.MALFORMED  # type: ignore[arg-type]


def _padded_to(length: int) -> str:
    """A token of exactly `length` characters signed by us (an extra claim carries the padding)."""
    base = len(token(body=claims(pad="")))
    text = token(body=claims(pad="x" * ((length - base) * 3 // 4)))
    for extra in range(8):
        if len(text) == length:
            return text
        text = token(body=claims(pad="x" * ((length - base) * 3 // 4 + extra)))
    raise AssertionError("could not pad")


def test_a_token_of_exactly_the_maximum_length_verifies_and_one_character_more_does_not() -> None:
    longest = _padded_to(MAX_TOKEN_LENGTH)
    assert len(longest) == MAX_TOKEN_LENGTH
    assert verify_access_token(longest, SETTINGS, KEYS, NOW).sub == "user-1"
    head, body, signature = longest.split(".")
    assert reason_for(f"{head}.{body}.{signature}A") == Reason.MALFORMED


@pytest.mark.parametrize(
    "raw",
    [
        b'{"alg":"RS256","alg":"RS256","typ":"at+jwt"}',
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b"{not json",
        b"[" * 100_000,
    ],
)
def test_a_malformed_header_segment_is_malformed(raw: bytes) -> None:
    signing_input = f"{b64(raw)}.{seg(claims())}"
    assert reason_for(f"{signing_input}.{b64(_sign(signing_input.encode()))}") == Reason.MALFORMED


def test_a_duplicate_payload_key_is_malformed_even_when_signed_by_us() -> None:
    raw = json.dumps(claims(), separators=(",", ":"))[:-1] + ',"sub":"admin"}'
    assert reason_for(token(body=raw.encode())) == Reason.MALFORMED
    assert reason_for(token(body=b"[]")) == Reason.MALFORMED


def test_an_undecodable_base64_segment_is_malformed() -> None:
    # 'A' alone is one base64 character: no byte can be decoded from it
    signing_input = f"{seg(header())}.A"
    assert reason_for(f"{signing_input}.{b64(_sign(signing_input.encode()))}") == Reason.MALFORMED


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": ...},
        {"sub": 7},
        {"sub": ""},
        {"sub": "a b"},
        {"sub": "x" * 129},
        {"jti": ...},
        {"jti": ["j"]},
        {"jti": "j/1"},
        {"sid": ...},
        {"sid": None},
        {"sid": "s.1"},
        {"role": ...},
        {"role": 1},
        {"role": "ad min"},
        {"role": "r" * 65},
        {"type": ...},
        {"type": True},
        {"type": "a/b"},
        {"email": ...},
        {"email": ""},
        {"email": 5},
        {"email": "e" * 255},
        {"name": ...},
        {"name": None},
        {"name": "n" * 257},
        {"iss": ...},
        {"iss": ["https://auth.test.example"]},
        {"iss": 1},
        {"aud": ...},
        {"aud": []},
        {"aud": ["jwt-auth-tests", 5]},
        {"aud": ["jwt-auth-tests"] * 11},
        {"aud": None},
        {"iat": ...},
        {"iat": "1700000000"},
        {"iat": True},
        {"iat": 1_700_000_000.5},
        {"iat_ms": 1},
        {"auth_time": "0"},
        {"client_id": None},
        {"exp": ...},
        {"exp": "1700000600"},
        {"exp": 1_700_000_600.5},
        {"exp": True},
        {"nbf": "0"},
        {"nbf": False},
        {"nbf": None},
    ],
    ids=lambda overrides: repr(overrides),
)
def test_a_claim_missing_or_of_the_wrong_type_or_shape_is_refused_as_claims(
    overrides: dict[str, Any],
) -> None:
    with pytest.raises(InvalidAccessToken) as refused:
        verify_access_token(token(body=claims(**overrides)), SETTINGS, KEYS, NOW)
    assert refused.value.reason == Reason.CLAIMS
    # our own type check refused it (PyJWT would refuse some of these too, naming its exception)
    ((claim, _value),) = overrides.items()
    expected = CHECKED_AS.get(claim, claim)
    assert refused.value.detail == expected


CHECKED_AS = {
    "iss": "iss or aud",
    "aud": "iss or aud",
    "iat_ms": "iat_ms is not iat",
}


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://auth.test.example/"},
        {"iss": "https://auth.test"},
        {"iss": ""},
        {"aud": "jwt-auth"},
        {"aud": "jwt-auth-tests-2"},
    ],
)
def test_a_wrong_issuer_or_audience_is_refused_as_claims(overrides: dict[str, Any]) -> None:
    assert reason_for(token(body=claims(**overrides))) == Reason.CLAIMS


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "x" * 128, "jti": "A-z_0", "sid": "9"},
        {"email": "e" * 254, "name": "n" * 256},
        {"email": "e", "name": ""},
        {"role": "r" * 64, "type": "a.b-c_D9"},
        {"nbf": int(NOW) + LEEWAY},
        {"nbf": int(NOW)},
        {"iat": int(NOW) + LEEWAY},
        {"iat": 0},
    ],
    ids=lambda overrides: repr(sorted(overrides)),
)
def test_claims_at_their_bounds_are_accepted(overrides: dict[str, Any]) -> None:
    assert verify_access_token(token(body=claims(**overrides)), SETTINGS, KEYS, NOW).exp == int(NOW) + 600


def test_expiry_is_exact_to_the_leeway() -> None:
    now = NOW + 0.5
    # exp <= now - leeway is expired; one second later it is not
    assert reason_for(token(body=claims(exp=int(NOW) - LEEWAY)), now - 0.5) == Reason.EXPIRED
    assert reason_for(token(body=claims(exp=int(NOW) - LEEWAY - 1)), now) == Reason.EXPIRED
    assert (
        verify_access_token(token(body=claims(exp=int(NOW) - LEEWAY + 1)), SETTINGS, KEYS, now).sub
        == "user-1"
    )


def test_issued_at_and_not_before_in_the_future_beyond_the_leeway_are_not_yet_valid() -> None:
    assert reason_for(token(body=claims(iat=int(NOW) + LEEWAY + 1))) == Reason.NOT_YET_VALID
    assert reason_for(token(body=claims(nbf=int(NOW) + LEEWAY + 1))) == Reason.NOT_YET_VALID


def test_times_within_the_leeway_at_the_real_current_time_are_accepted() -> None:
    # PyJWT checks times without our leeway and against the real clock: it must not check them at all
    now = time.time()
    within = claims(iat=int(now) + LEEWAY - 1, nbf=int(now) + LEEWAY - 1, exp=int(now) - LEEWAY + 2)
    assert verify_access_token(token(body=within), SETTINGS, KEYS, now).sub == "user-1"


# --- the authorizer's decision ------------------------------------------------------------------


def test_the_bearer_header_is_exactly_one_scheme_one_space_one_token() -> None:
    assert bearer_token("Bearer abc.def-_") == "abc.def-_"
    assert bearer_token("bEaReR x") == "x"
    for hostile in ("", "Bearer", "Bearer ", "Bearer  x", "Bearer x y", "Basic x", "Bearer x\n", "xBearer x"):
        with pytest.raises(InvalidAccessToken) as refused:
            bearer_token(hostile)
        assert refused.value.reason == Reason.MALFORMED
    with pytest.raises(InvalidAccessToken):
        bearer_token(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({}, ""),
        ({"headers": None, "multiValueHeaders": None}, ""),
        ({"headers": {"Authorization": "Bearer a"}}, "Bearer a"),
        ({"headers": {"aUTHORIZATION": "Bearer a", "Accept": "x"}}, "Bearer a"),
        ({"headers": {"authorization": 7}}, "7"),
        (
            {"headers": {"Authorization": "Bearer a"}, "multiValueHeaders": {"Authorization": ["Bearer a"]}},
            "Bearer a",
        ),
        # a single value that is not a list counts once (not once per character)
        (
            {"headers": {"Authorization": "Bearer a"}, "multiValueHeaders": {"Authorization": "Bearer a"}},
            "Bearer a",
        ),
        # headers that are not a mapping carry no Authorization header
        ({"headers": [("Authorization", "Bearer a")], "multiValueHeaders": "Authorization"}, ""),
    ],
    ids=range(8),
)
def test_the_one_authorization_header_is_read_in_any_case(event: dict[str, Any], expected: str) -> None:
    assert authorization_header(event) == expected


@pytest.mark.parametrize(
    "event",
    [
        {"headers": {"Authorization": "Bearer a", "authorization": "Bearer b"}},
        {"headers": {"Authorization": "Bearer a"}, "multiValueHeaders": {"Authorization": ["Bearer a"] * 2}},
        {"multiValueHeaders": {"Authorization": ["Bearer a"], "AUTHORIZATION": "Bearer b"}},
    ],
    ids=["two in headers", "two values of one", "two names in multiValueHeaders"],
)
def test_several_authorization_headers_are_refused(event: dict[str, Any]) -> None:
    with pytest.raises(InvalidAccessToken) as refused:
        authorization_header(event)
    assert refused.value.reason == Reason.MALFORMED
    assert refused.value.detail == "several Authorization headers"


class FakeDenylist:
    def __init__(self, revocations: Revocations | Exception) -> None:
        self.answer = revocations
        self.asked: list[tuple[str, str, str, int]] = []

    def revocations(self, jti: str, sid: str, subject: str, at_ms: int) -> Revocations:
        self.asked.append((jti, sid, subject, at_ms))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class FixedClock:
    def now_ms(self) -> int:
        return int(NOW * 1000)

    def now(self) -> float:
        return NOW


def services_with(revocations: Revocations | Exception) -> Any:
    return SimpleNamespace(
        settings=SETTINGS,
        keys=KEYS,
        routes=load_route_table(DEFAULT_ROUTES_FILE),
        clock=FixedClock(),
        denylist=FakeDenylist(revocations),
    )


def revocations(**overrides: Any) -> Revocations:
    values = {
        "jti_denied": False,
        "session_revoked": False,
        "not_before_ms": 0,
    }
    return Revocations(**{**values, **overrides})


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (revocations(jti_denied=True), Reason.LOGGED_OUT),
        (revocations(session_revoked=True), Reason.SESSION_REVOKED),
        (revocations(not_before_ms=ISSUED_MS + 1), Reason.NOT_BEFORE),
        (revocations(not_before_ms=ISSUED_MS), Reason.NOT_BEFORE),  # ties deny
        (ServiceUnavailable("DynamoDB"), Reason.UNDECIDABLE),
    ],
)
def test_each_revocation_denies_with_its_reason(found: Revocations | Exception, expected: Reason) -> None:
    services = services_with(found)
    with pytest.raises(InvalidAccessToken) as refused:
        authorize(services, f"Bearer {token()}", METHOD_ARN)
    assert refused.value.reason == expected
    assert services.denylist.asked == [("jti-1", "sid-1", "user-1", int(NOW * 1000))]


def test_a_token_issued_after_the_not_before_is_allowed() -> None:
    for not_before in (ISSUED_MS - 1, 0):
        services = services_with(revocations(not_before_ms=not_before))
        verified, policy = authorize(services, f"Bearer {token()}", METHOD_ARN)
        assert verified.sub == policy["principalId"] == "user-1"
        assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_an_undecidable_revocation_names_the_dependency() -> None:
    services = services_with(ServiceUnavailable("DynamoDB"))
    claims_ = verify_access_token(token(), SETTINGS, KEYS, NOW)
    with pytest.raises(InvalidAccessToken) as refused:
        check_not_revoked(services, claims_)
    assert refused.value.detail == "DynamoDB"


def test_the_authorizer_verifies_before_it_reads_the_denylist() -> None:
    services = services_with(revocations())
    with pytest.raises(InvalidAccessToken) as refused:
        authorize(services, f"Bearer {token(header(kid='nope'))}", METHOD_ARN)
    assert refused.value.reason == Reason.UNKNOWN_KEY
    assert services.denylist.asked == []
    with pytest.raises(InvalidAccessToken) as expired:
        authorize(services, f"Bearer {token(body=claims(exp=int(NOW) - LEEWAY))}", METHOD_ARN)
    assert expired.value.reason == Reason.EXPIRED


def test_the_authorizer_requires_its_own_apis_audience() -> None:
    """An API whose declaration names an audience accepts only tokens for it, not the service's."""
    import dataclasses

    services = services_with(revocations())
    services.routes = dataclasses.replace(services.routes, audience="orders-api")
    with pytest.raises(InvalidAccessToken) as refused:
        authorize(services, f"Bearer {token()}", METHOD_ARN)  # for the service's audience only
    assert (refused.value.reason, refused.value.detail) == (Reason.CLAIMS, "InvalidAudienceError")
    both = token(body=claims(aud=["jwt-auth-tests", "orders-api"]))
    verified, _ = authorize(services, f"Bearer {both}", METHOD_ARN)
    assert verified.sub == "user-1"


def test_amr_may_name_up_to_its_limit_of_methods() -> None:
    from shared.credentials.access_tokens import MAX_AMR_VALUES

    methods = [f"m{number}" for number in range(MAX_AMR_VALUES + 1)]
    at_limit = verify_access_token(token(body=claims(amr=methods[:MAX_AMR_VALUES])), SETTINGS, KEYS, NOW)
    assert at_limit.amr == tuple(methods[:MAX_AMR_VALUES])
    assert reason_for(token(body=claims(amr=methods))) == Reason.CLAIMS
