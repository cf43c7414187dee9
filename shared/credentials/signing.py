"""Signing keys: KMS RS256 (default) or ES256, or HS256 from a Secrets Manager secret.

The private key of an asymmetric KMS key never leaves KMS: tokens are signed with kms:Sign,
MessageType RAW. Public keys are fetched once per container from the configured key list and
published as a JWKS; `kid` is each key's RFC 7638 thumbprint (never a KMS ARN, which would
reveal the account). Verification looks keys up in this static set only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

from shared.config.settings import Settings
from shared.core import aws
from shared.core.errors import ConfigurationError, ServiceUnavailable

# The KMS key spec and signing algorithm behind each JWS algorithm (the stack and the local API
# create keys from these).
KMS_KEY_SPEC = {"RS256": "RSA_2048", "ES256": "ECC_NIST_P256"}
KMS_SIGNING_ALGORITHM = {"RS256": "RSASSA_PKCS1_V1_5_SHA_256", "ES256": "ECDSA_SHA_256"}
KMS_RAW_MESSAGE_LIMIT = 4096
MIN_HS256_SECRET_BYTES = 32
SECRET_CACHE_SECONDS = 300  # a rotated secret reaches every container within this


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(number: int, length: int | None = None) -> str:
    size = length or max(1, (number.bit_length() + 7) // 8)
    return b64url(number.to_bytes(size, "big"))


def public_jwk(public_key: Any) -> dict[str, str]:
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "RSA", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        point = public_key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": _int_b64(point.x, 32), "y": _int_b64(point.y, 32)}
    raise ConfigurationError("signing keys must be RSA or EC P-256")


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, no white space."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "oct": ("k", "kty")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    algorithm: str
    key: Any  # a cryptography public key, or the HS256 secret bytes
    jwk: dict[str, str] | None  # published in the JWKS (None for a symmetric secret)


class Signer:
    """Signs JWS signing input with the active key."""

    def __init__(self, kid: str, algorithm: str, sign: Any) -> None:
        self.kid = kid
        self.algorithm = algorithm
        self._sign = sign

    def sign(self, message: bytes) -> bytes:
        if len(message) > KMS_RAW_MESSAGE_LIMIT:
            raise ValueError("signing input exceeds 4096 bytes")
        signature: bytes = self._sign(message)
        return signature


@dataclass(frozen=True)
class KeySet:
    signer: Signer
    keys: dict[str, VerificationKey]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        published = []
        for key in self.keys.values():
            if key.jwk is not None:
                published.append({**key.jwk, "kid": key.kid, "alg": key.algorithm, "use": "sig"})
        return {"keys": published}


def _kms_signer(kms: Any, key_id: str, algorithm: str, kid: str) -> Signer:
    kms_algorithm = KMS_SIGNING_ALGORITHM[algorithm]

    def sign(message: bytes) -> bytes:
        try:
            response = kms.sign(
                KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=kms_algorithm
            )
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable("KMS") from error
        signature: bytes = response["Signature"]
        if algorithm == "ES256":
            r, s = decode_dss_signature(signature)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signature

    return Signer(kid, algorithm, sign)


def _load_kms_keys(settings: Settings) -> KeySet:
    kms = aws.kms()
    keys: dict[str, VerificationKey] = {}
    signer: Signer | None = None
    for key_id in settings.signing_key_ids:
        try:
            response = kms.get_public_key(KeyId=key_id)
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable("KMS") from error
        public_key = load_der_public_key(response["PublicKey"])
        jwk = public_jwk(public_key)
        expected_kty = "RSA" if settings.signing_algorithm == "RS256" else "EC"
        if jwk["kty"] != expected_kty:
            raise ConfigurationError(
                f"SIGNING_KEY_IDS: key {key_id} is {jwk['kty']}, but SIGNING_ALGORITHM is "
                f"{settings.signing_algorithm}"
            )
        kid = thumbprint(jwk)
        keys[kid] = VerificationKey(kid, settings.signing_algorithm, public_key, jwk)
        if signer is None:
            signer = _kms_signer(kms, key_id, settings.signing_algorithm, kid)
    assert signer is not None  # type narrowing: SIGNING_KEY_IDS is never empty (settings)
    return KeySet(signer, keys)


def _load_hs256_key(settings: Settings) -> KeySet:
    """The current secret signs; the current and the previous one (during a rotation) verify."""
    secrets = secret_versions(settings.hs256_secret_arn, "HS256_SECRET_ARN")
    keys = {}
    for secret in secrets:
        kid = thumbprint({"kty": "oct", "k": b64url(secret)})
        keys[kid] = VerificationKey(kid, "HS256", secret, None)
    current = secrets[0]
    kid = thumbprint({"kty": "oct", "k": b64url(current)})
    signer = Signer(kid, "HS256", lambda message: hmac.new(current, message, hashlib.sha256).digest())
    return KeySet(signer, keys)


def read_secret(secret_id: str, stage: str = "AWSCURRENT") -> str | None:
    """The secret's string at a version stage; None for a stage the secret does not have (there is
    no AWSPREVIOUS before the first rotation)."""
    try:
        response = aws.secrets_manager().get_secret_value(SecretId=secret_id, VersionStage=stage)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            if stage != "AWSCURRENT":
                return None
            raise ConfigurationError(f"secret {secret_id} does not exist") from None
        raise ServiceUnavailable("Secrets Manager") from error
    except BotoCoreError as error:
        raise ServiceUnavailable("Secrets Manager") from error
    value = response.get("SecretString")
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"secret {secret_id} has no string value")
    return value


def secret_versions(secret_id: str, setting: str) -> tuple[bytes, ...]:
    """The current secret, then the previous one if the secret was rotated: both stay valid for
    verification while containers catch up (each re-reads within SECRET_CACHE_SECONDS)."""
    versions = []
    for stage in ("AWSCURRENT", "AWSPREVIOUS"):
        value = read_secret(secret_id, stage)
        if value is None:
            continue
        secret = value.encode("utf-8")
        if len(secret) < MIN_HS256_SECRET_BYTES:
            raise ConfigurationError(f"{setting}: the secret must be at least {MIN_HS256_SECRET_BYTES} bytes")
        versions.append(secret)
    return tuple(versions)


_lock = threading.Lock()
_loaded: dict[Settings, tuple[KeySet, float]] = {}
_refresh_keys: dict[str, tuple[tuple[bytes, ...], float]] = {}


def key_set(settings: Settings) -> KeySet:
    """The keys, loaded on first use (not at import: SnapStart-safe). KMS public keys are kept for
    the container's life; an HS256 secret is read again after SECRET_CACHE_SECONDS, so a rotated
    secret reaches every container within that time."""
    found = _loaded.get(settings)
    if found is not None and (settings.uses_kms or time.monotonic() - found[1] < SECRET_CACHE_SECONDS):
        return found[0]
    with _lock:
        loader = _load_hs256_key if settings.signing_algorithm == "HS256" else _load_kms_keys
        _loaded[settings] = (loader(settings), time.monotonic())
        return _loaded[settings][0]


def refresh_derivation_keys(settings: Settings, *, reload: bool = False) -> tuple[bytes, ...]:
    """The keys that derive a refresh token's successor: the current one first (new successors),
    then the previous one during a rotation (recognising successors derived before it). Read again
    after SECRET_CACHE_SECONDS, or at once with `reload`."""
    secret_id = settings.refresh_key_secret_arn
    found = _refresh_keys.get(secret_id)
    if found is not None and not reload and time.monotonic() - found[1] < SECRET_CACHE_SECONDS:
        return found[0]
    keys = secret_versions(secret_id, "REFRESH_KEY_SECRET_ARN")
    _refresh_keys[secret_id] = (keys, time.monotonic())
    return keys


def forget_keys() -> None:
    """Drop cached keys (tests, and key rotation in a long-lived local process)."""
    with _lock:
        _loaded.clear()
    _refresh_keys.clear()
