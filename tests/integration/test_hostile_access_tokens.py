"""docs/hostile-inputs.md entries 1-19 and 33: access tokens at the authorizer. Every one must end in
`Unauthorized` (never an allow, never another exception), and the legitimate tokens keep working."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.runtime.services import Services
from tests import forge
from tests.fixtures import Accounts
from tests.flows import admin_login, assert_unauthorized, is_authorized, login_ok, logout, staff_login

ATTACKER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_EC = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def tokens(accounts: Accounts) -> dict[str, str]:
    return admin_login()


def bearer(token: str) -> str:
    return f"Bearer {token}"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_01_alg_none_in_any_spelling_with_an_empty_signature_is_rejected(
    services: Services, alg: str
) -> None:
    token = (
        f"{forge.segment(forge.our_header(services, alg=alg))}.{forge.segment(forge.good_claims(services))}."
    )
    assert_unauthorized(bearer(token))


def test_02_a_real_token_with_its_signature_removed_is_rejected(tokens: dict[str, str]) -> None:
    head, body, _ = tokens["access_token"].split(".")
    assert_unauthorized(bearer(f"{head}.{body}."))
    assert is_authorized(tokens["access_token"])


@pytest.mark.parametrize(
    "shape",
    ["one", "one.two", "a.b.c.d", "a.b.c.d.e", "", "a.b.c!", "ey$.ey%.sig", "a..b", "..", "a.b.c "],
)
def test_03_wrong_segment_counts_empty_and_non_base64url_tokens_are_rejected(
    services: Services, shape: str
) -> None:
    assert_unauthorized(bearer(shape))


def test_04_hs256_signed_with_empty_secret_public_key_or_secret_is_rejected(
    services: Services, tokens: dict[str, str]
) -> None:
    keys = services.keys
    verification = next(iter(keys.keys.values()))
    pem = verification.key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_text = json.dumps({**verification.jwk, "kid": verification.kid}).encode()
    header = forge.our_header(services, alg="HS256")
    for secret in (b"", pem, jwk_text, b"secret"):
        assert_unauthorized(bearer(forge.hs(header, forge.good_claims(services), secret)))
    assert is_authorized(tokens["access_token"])


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_05_embedded_jwk_or_remote_key_urls_are_rejected_without_any_connection(
    services: Services, no_network: list[object], member: str
) -> None:
    services.keys  # noqa: B018 - load our keys before the network is watched
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(ATTACKER_RSA.public_key()))
    value = attacker_jwk if member == "jwk" else "https://attacker.invalid/keys.json"
    header = forge.our_header(services, **{member: value})
    assert_unauthorized(bearer(forge.rs256(header, forge.good_claims(services), ATTACKER_RSA)))
    header_without_kid = forge.our_header(services, kid=..., **{member: value})
    assert_unauthorized(bearer(forge.rs256(header_without_kid, forge.good_claims(services), ATTACKER_RSA)))
    assert no_network == []


@pytest.mark.parametrize(
    "kid",
    ["unknown-kid", "", "../../../../dev/null", "/dev/null", "|sleep 5", "x' UNION SELECT '1';--", 7, None],
)
def test_06_hostile_kid_values_are_rejected_with_no_aws_call(
    services: Services, aws_calls: list[str], kid: object
) -> None:
    services.keys  # noqa: B018 - warm: keys load once per container
    aws_calls.clear()
    header = forge.our_header(services, kid=kid)
    started = time.perf_counter()
    assert_unauthorized(bearer(forge.rs256(header, forge.good_claims(services), ATTACKER_RSA)))
    assert time.perf_counter() - started < 1.0
    assert aws_calls == []


def test_07_all_zero_rs256_signature_is_rejected(services: Services, tokens: dict[str, str]) -> None:
    assert_unauthorized(bearer(forge.with_signature(tokens["access_token"], bytes(256))))
    assert_unauthorized(bearer(forge.with_signature(tokens["access_token"], bytes(64))))


@pytest.mark.parametrize("aws_env", ["ES256"], indirect=True)
def test_07_all_zero_es256_signature_is_rejected_psychic_signatures(
    services: Services, accounts: Accounts
) -> None:
    tokens = admin_login()
    assert jwt.get_unverified_header(tokens["access_token"])["alg"] == "ES256"
    assert is_authorized(tokens["access_token"])
    assert_unauthorized(bearer(forge.with_signature(tokens["access_token"], bytes(64))))
    assert_unauthorized(bearer(forge.with_signature(tokens["access_token"], bytes(72))))


def test_08_tokens_signed_by_an_attacker_with_algorithms_outside_the_allow_list_are_rejected(
    services: Services,
) -> None:
    claims = forge.good_claims(services)
    assert_unauthorized(
        bearer(forge.hs(forge.our_header(services, alg="HS512"), claims, b"k" * 64, hashlib.sha512))
    )
    assert_unauthorized(bearer(forge.es256(forge.our_header(services, alg="ES256"), claims, ATTACKER_EC)))
    assert_unauthorized(bearer(forge.rs256(forge.our_header(services), claims, ATTACKER_RSA)))


@pytest.mark.parametrize("aws_env", ["ES256"], indirect=True)
def test_08_rs256_token_is_rejected_when_es256_is_configured(services: Services) -> None:
    claims = forge.good_claims(services)
    assert_unauthorized(bearer(forge.rs256(forge.our_header(services, alg="RS256"), claims, ATTACKER_RSA)))
    assert_unauthorized(bearer(forge.es256(forge.our_header(services), claims, ATTACKER_EC)))


def test_09_unknown_critical_header_is_rejected_even_when_signed_by_us(services: Services) -> None:
    token = forge.signed_by_us(
        services, forge.our_header(services, crit=["x-unknown"]), forge.good_claims(services)
    )
    assert_unauthorized(bearer(token))


def test_10_refresh_tokens_and_other_typ_values_are_not_access_tokens(
    services: Services, tokens: dict[str, str]
) -> None:
    assert_unauthorized(bearer(tokens["refresh_token"]))
    for typ in ("JWT", "id+jwt", "AT+JWT", "application/at+jwt", ...):
        token = forge.signed_by_us(services, forge.our_header(services, typ=typ), forge.good_claims(services))
        assert_unauthorized(bearer(token))


def test_10_an_access_token_presented_to_refresh_is_rejected(tokens: dict[str, str]) -> None:
    from tests.flows import refresh

    assert refresh(tokens["access_token"])["statusCode"] == 401
    assert refresh(tokens["refresh_token"])["statusCode"] == 200


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("aud", ...),
        ("aud", "someone-else"),
        ("aud", ["someone-else"]),
        ("aud", []),
        ("aud", ["jwt-auth-tests", 5]),
        ("iss", ""),
        ("iss", "https://auth.test"),
        ("iss", "auth.test.example"),
        ("iss", ["https://auth.test.example"]),
        ("iss", 42),
    ],
)
def test_11_wrong_missing_or_mistyped_audience_and_issuer_are_rejected(
    services: Services, claim: str, value: object
) -> None:
    token = forge.signed_by_us(
        services, forge.our_header(services), forge.good_claims(services, **{claim: value})
    )
    assert_unauthorized(bearer(token))


def test_11_an_audience_list_that_holds_ours_is_accepted(services: Services) -> None:
    audience = [services.settings.audience, "orders-api"]
    token = forge.signed_by_us(
        services, forge.our_header(services), forge.good_claims(services, aud=audience)
    )
    assert is_authorized(token)


# Each case built from the time the test runs, not the time it was collected (a slow run must not
# turn a future `nbf` into a past one).
@pytest.mark.parametrize(
    "changes",
    [
        lambda now: {"exp": int(now) - 120},
        lambda now: {"exp": ...},
        lambda now: {"exp": str(int(now) + 600)},
        lambda now: {"exp": True},
        lambda now: {"nbf": int(now) + 600},
        lambda now: {"iat": now + 600},
        lambda now: {"iat": "now"},
        lambda now: {"iat": ...},
    ],
)
def test_12_expired_missing_string_or_future_time_claims_are_rejected(
    services: Services, changes: Callable[[float], dict[str, object]]
) -> None:
    claims = forge.good_claims(services, **changes(time.time()))
    token = forge.signed_by_us(services, forge.our_header(services), claims)
    assert_unauthorized(bearer(token))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        (claim, value)
        for claim in ("sub", "role", "jti", "sid", "type")
        for value in (..., 42, None, ["x"], {"a": 1}, True, "")
    ]
    + [("email", ...), ("email", 7), ("name", None)],
)
def test_13_identity_claims_of_the_wrong_json_type_or_missing_are_rejected(
    services: Services, claim: str, value: object
) -> None:
    token = forge.signed_by_us(
        services, forge.our_header(services), forge.good_claims(services, **{claim: value})
    )
    assert_unauthorized(bearer(token))


def test_13_a_correctly_forged_token_passes_so_the_cases_above_fail_for_their_own_reason(
    services: Services,
) -> None:
    token = forge.signed_by_us(services, forge.our_header(services), forge.good_claims(services))
    assert is_authorized(token)


def test_14_duplicate_json_keys_in_header_or_payload_are_rejected(services: Services) -> None:
    claims = forge.good_claims(services)
    payload = json.dumps(claims)[:-1] + ', "role": "superuser"}'
    assert_unauthorized(bearer(forge.signed_by_us(services, forge.our_header(services), payload.encode())))
    header = json.dumps(forge.our_header(services))[:-1] + ', "alg": "none"}'
    assert_unauthorized(bearer(forge.signed_by_us(services, header.encode(), claims)))


def test_14_invalid_utf8_and_huge_tokens_are_rejected_fast(services: Services, aws_calls: list[str]) -> None:
    services.keys  # noqa: B018
    aws_calls.clear()
    invalid_utf8 = forge.signed_by_us(services, forge.our_header(services), b'{"sub":"\xff\xfe"}')
    aws_calls.clear()
    assert_unauthorized(bearer(invalid_utf8))
    huge = forge.signed_by_us(services, forge.our_header(services), forge.good_claims(services))
    huge = huge.replace(".", "." + "A" * 100_000, 1)
    aws_calls.clear()
    started = time.perf_counter()
    assert_unauthorized(bearer(huge))
    assert time.perf_counter() - started < 0.5
    assert aws_calls == []


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "bearer  {token}",
        "Bearer  {token}",
        "Bearer {token} {token}",
        "Bearer {token}, Bearer {token}",
        "Bearer {token}garbage!",
        "Bearer {token} ",
        "Basic {token}",
        "{token}",
        "Token {token}",
    ],
)
def test_15_malformed_authorization_headers_are_rejected(
    tokens: dict[str, str], authorization: str | None
) -> None:
    value = authorization.replace("{token}", tokens["access_token"]) if authorization is not None else None
    assert_unauthorized(value)


def test_15_accepted_forms_are_exactly_bearer_space_token_with_the_scheme_in_any_case(
    tokens: dict[str, str],
) -> None:
    from functions.authorizer.handler import handler
    from tests.events import authorizer_event
    from tests.flows import CONTEXT

    for scheme in ("Bearer", "bearer", "BEARER"):
        policy = handler(authorizer_event(f"{scheme} {tokens['access_token']}"), CONTEXT)
        assert policy["principalId"]


def test_16_after_logout_the_token_and_its_padded_spelling_stay_rejected(tokens: dict[str, str]) -> None:
    token = tokens["access_token"]
    assert logout(token)["statusCode"] == 200
    assert_unauthorized(bearer(token))
    head, body, signature = token.split(".")
    padded = ".".join(part + "=" * (-len(part) % 4) for part in (head, body, signature))
    assert_unauthorized(bearer(padded))
    assert_unauthorized(bearer(f"{head}.{body}.{signature}="))


@pytest.mark.parametrize("aws_env", ["ES256"], indirect=True)
def test_16_after_logout_the_malleated_es256_signature_r_n_minus_s_stays_rejected(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    token = tokens["access_token"]
    head, body, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    malleated = f"{head}.{body}.{forge.b64(r + (order - s).to_bytes(32, 'big'))}"
    assert logout(token)["statusCode"] == 200
    assert_unauthorized(bearer(token))
    assert_unauthorized(bearer(malleated))


def test_17_tokens_issued_before_logout_all_password_change_or_disable_are_rejected(
    services: Services, accounts: Accounts
) -> None:
    from shared.accounts import actions as operations
    from tests.flows import change_password, logout_all

    first = staff_login()
    assert logout_all(first["access_token"])["statusCode"] == 200
    assert_unauthorized(bearer(first["access_token"]))

    second = staff_login()
    assert (
        change_password(second["access_token"], accounts.password, "saffron lantern 77 quietly")["statusCode"]
        == 200
    )
    assert_unauthorized(bearer(second["access_token"]))

    admin = admin_login()
    operations.disable_user(services, accounts.admin)
    assert_unauthorized(bearer(admin["access_token"]))


def test_19_policy_context_holds_only_strings_numbers_or_booleans(tokens: dict[str, str]) -> None:
    from tests.flows import authorize

    context = authorize(tokens["access_token"])["context"]
    assert context and all(isinstance(value, str | int | float | bool) for value in context.values())
    assert "password" not in json.dumps(context).lower()


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_19_a_cached_policy_allows_exactly_the_routes_the_caller_may_use(
    services: Services, accounts: Accounts, who: str
) -> None:
    """API Gateway caches the policy per token and reuses it for every route: evaluate the one
    policy against every declared route, as IAM would (`*` spans `/`)."""
    from shared.routes.wildcards import wildcard_matches
    from tests.events import method_arn
    from tests.flows import authorize

    tokens = login_ok(f"{who}@dealership.example", accounts.password, who)
    policy = authorize(tokens["access_token"], "GET", "/auth/me")
    resources = [
        r for s in policy["policyDocument"]["Statement"] if s["Effect"] == "Allow" for r in s["Resource"]
    ]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    for route in services.routes.routes:
        concrete = route.path.replace("{id}", "abc123")
        arn = method_arn(route.method, concrete)
        allowed = any(wildcard_matches(resource, arn) for resource in resources)
        assert allowed == route.allows(claims["type"], claims["role"]), (route.method, route.path)


@pytest.mark.parametrize(
    ("claim", "value"), [("sub", "x" * 1100), ("jti", "x" * 1100), ("sid", "x" * 2000), ("sub", "")]
)
def test_33_claims_that_would_make_invalid_dynamodb_keys_are_rejected_before_any_lookup(
    services: Services, aws_calls: list[str], claim: str, value: str
) -> None:
    services.keys  # noqa: B018
    token = forge.signed_by_us(
        services, forge.our_header(services), forge.good_claims(services, **{claim: value})
    )
    aws_calls.clear()
    assert_unauthorized(bearer(token))
    assert not any(call.startswith("dynamodb.") for call in aws_calls)


def test_33_jti_equal_to_sid_does_not_make_a_duplicate_key_batch(services: Services) -> None:
    token = forge.signed_by_us(
        services,
        forge.our_header(services),
        forge.good_claims(services, jti="same-id", sid="same-id", sub="same-id"),
    )
    assert is_authorized(token)


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_05_key_location_headers_are_refused_even_on_a_token_signed_by_our_key(
    services: Services, member: str
) -> None:
    """PyJWT ignores these members; our own check is what refuses them."""
    header = forge.our_header(services, **{member: "https://attacker.invalid/key"})
    assert_unauthorized(bearer(forge.signed_by_us(services, header, forge.good_claims(services))))


def test_09_unencoded_payload_b64_false_is_rejected_even_when_signed_by_us(services: Services) -> None:
    header = forge.our_header(services, b64=False)
    assert_unauthorized(bearer(forge.signed_by_us(services, header, forge.good_claims(services))))
