"""Passkeys (WebAuthn credentials) and their challenges, in the Users table (new keys only; the
account item is not touched).

PASSKEY#<SHA-256 of the credential id>   one credential: its id (base64url), the account it signs in
                                         (user id, user type, email), its COSE public key (bytes), the
                                         sign counter, transports, the user's name for it, created_at,
                                         last_used (ms), whether it may be synced (`backup_eligible`:
                                         a multi-device passkey) and the authenticator's AAGUID. The
                                         counter only ever moves forward: each sign-in sets it in a
                                         write conditional on the stored one being lower (or both
                                         zero, for authenticators without a counter), so two uses of
                                         one counter value (a cloned authenticator) cannot both pass
PASSKEYSOF#<user id>                     `ids`: the string set of the user's credential keys (the
                                         hashes above), for listing and a cap per user
PASSKEYCHALLENGE#<SHA-256 of challenge>  a challenge handed to the browser: `purpose` (register or
                                         login), who asked (user id, user type, email and session id
                                         for a registration; for a sign-in, the optional account the
                                         caller named), when it expires (ms) and `ttl` for DynamoDB's
                                         clean-up (readers compare expiry themselves). Using it deletes
                                         it, conditional on it being there: once, ever
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shared.store.dynamo import (
    Item,
    Operation,
    TransactionRejected,
    batch_get,
    boolean,
    conditional,
    dynamodb_call,
    key,
    n,
    number,
    s,
    strings,
    text,
    transact_write,
)
from shared.store.factors import (
    FactorAdded,
    no_active_totp_check,
    no_passkey_check,
    passkey_list_key,
    write_unless_factor_added,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PasskeyPurpose = Literal["register", "login"]
MAX_PASSKEYS = 10  # per user


def credential_key(credential_id: str) -> str:
    """The item key of a credential, from its id (base64url): a bounded key whatever its length."""
    return f"PASSKEY#{hashlib.sha256(credential_id.encode('ascii')).hexdigest()}"


def owner_key(user_id: str) -> str:
    return passkey_list_key(user_id)


def challenge_key(challenge: str) -> str:
    return f"PASSKEYCHALLENGE#{hashlib.sha256(challenge.encode('ascii')).hexdigest()}"


@dataclass(frozen=True)
class PasskeyChallenge:
    purpose: PasskeyPurpose
    user_id: str  # "" for a sign-in: who signs in is known from the credential
    user_type: str
    email: str
    session_id: str  # the registering session; "" for a sign-in
    expires_ms: int


@dataclass(frozen=True)
class Passkey:
    credential_id: str  # base64url, as WebAuthn's `id`
    user_id: str
    user_type: str
    email: str
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]
    name: str
    created_at: int
    last_used: int
    backup_eligible: bool
    aaguid: str


def _passkey_from_item(item: Item) -> Passkey:
    return Passkey(
        credential_id=text(item, "credential_id"),
        user_id=text(item, "user_id"),
        user_type=text(item, "user_type"),
        email=text(item, "email"),
        public_key=bytes(item["public_key"]["B"]),
        sign_count=number(item, "sign_count"),
        transports=strings(item, "transports"),
        name=text(item, "name"),
        created_at=number(item, "created_at"),
        last_used=number(item, "last_used"),
        backup_eligible=boolean(item, "backup_eligible"),
        aaguid=text(item, "aaguid"),
    )


class PasskeyStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    # -- challenges ------------------------------------------------------------------------------
    def create_challenge(self, challenge: str, record: PasskeyChallenge) -> None:
        item = {
            "pk": s(challenge_key(challenge)),
            "purpose": s(record.purpose),
            "user_id": s(record.user_id),
            "user_type": s(record.user_type),
            "email": s(record.email),
            "session_id": s(record.session_id),
            "expires_ms": n(record.expires_ms),
            "ttl": n(record.expires_ms // 1000 + 1),
        }
        # 256 random bits never collide; the condition only keeps a bug from overwriting one
        conditional(
            lambda: self.dynamodb.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        )

    def challenge(self, challenge: str) -> PasskeyChallenge | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(challenge_key(challenge)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        if not item:
            return None
        return PasskeyChallenge(
            purpose="register" if text(item, "purpose") == "register" else "login",
            user_id=text(item, "user_id"),
            user_type=text(item, "user_type"),
            email=text(item, "email"),
            session_id=text(item, "session_id"),
            expires_ms=number(item, "expires_ms"),
        )

    def consume_challenge_operation(self, challenge: str) -> Operation:
        """Delete the challenge in a transaction, which fails if it is already gone (used twice)."""
        return {
            "Delete": {
                "TableName": self.table,
                "Key": key(challenge_key(challenge)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    # -- credentials -----------------------------------------------------------------------------
    def get(self, credential_id: str) -> Passkey | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(credential_key(credential_id)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _passkey_from_item(item) if item else None

    def has_any(self, user_id: str) -> bool:
        """Whether the user's list names a passkey (one read of the list item alone)."""
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(owner_key(user_id)), ConsistentRead=True
            )
        )
        return bool((response.get("Item") or {}).get("ids", {}).get("SS"))

    def none_check(self, user_id: str) -> Operation:
        """A transaction's condition: the user's list names no passkey."""
        return no_passkey_check(self.table, user_id)

    def of_user(self, user_id: str) -> list[Passkey]:
        """The user's passkeys, oldest first."""
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(owner_key(user_id)), ConsistentRead=True
            )
        )
        pks = sorted((response.get("Item") or {}).get("ids", {}).get("SS", ()))
        if not pks:
            return []
        items = batch_get(self.dynamodb, {self.table: [key(pk) for pk in pks]})[self.table]
        passkeys = [_passkey_from_item(item) for item in items]
        return sorted((p for p in passkeys if p.user_id == user_id), key=lambda p: p.created_at)

    def add_operations(
        self, passkey: Passkey, challenge: str, *, only_while_no_factor: bool
    ) -> list[Operation]:
        """Store a new credential, using up its registration challenge, in one transaction: it fails
        if the challenge is gone, the credential id is taken (by anyone), or the user has the most
        passkeys allowed already; with `only_while_no_factor`, also if the user has a passkey or an
        active TOTP factor. The order is the one of `TransactionRejected.reasons`."""
        pk = credential_key(passkey.credential_id)
        item: Item = {
            "pk": s(pk),
            "credential_id": s(passkey.credential_id),
            "user_id": s(passkey.user_id),
            "user_type": s(passkey.user_type),
            "email": s(passkey.email),
            "public_key": {"B": passkey.public_key},
            "sign_count": n(passkey.sign_count),
            "transports": {"L": [s(t) for t in passkey.transports]},
            "name": s(passkey.name),
            "created_at": n(passkey.created_at),
            "last_used": n(passkey.last_used),
            "backup_eligible": {"BOOL": passkey.backup_eligible},
            "aaguid": s(passkey.aaguid),
        }
        listed: Operation = {
            "Update": {
                "TableName": self.table,
                "Key": key(owner_key(passkey.user_id)),
                "UpdateExpression": "ADD ids :id",
                "ConditionExpression": "attribute_not_exists(ids) OR size(ids) < :most",
                "ExpressionAttributeValues": {":id": {"SS": [pk]}, ":most": n(MAX_PASSKEYS)},
            }
        }
        operations = [
            self.consume_challenge_operation(challenge),
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            listed,
        ]
        if only_while_no_factor:
            listed["Update"]["ConditionExpression"] = "attribute_not_exists(ids)"
            operations.append(no_active_totp_check(self.table, passkey.user_id))
        return operations

    def add(self, passkey: Passkey, challenge: str, *, only_while_no_factor: bool) -> None:
        """Raises FactorAdded when `only_while_no_factor` and the user has a factor now, else
        TransactionRejected (reasons in add_operations' order) when a condition fails."""
        try:
            transact_write(
                self.dynamodb,
                self.add_operations(passkey, challenge, only_while_no_factor=only_while_no_factor),
            )
        except TransactionRejected as rejected:
            if only_while_no_factor and not rejected.failed(0) and (rejected.failed(2) or rejected.failed(3)):
                raise FactorAdded() from None
            raise

    def remove(self, user_id: str, credential_id: str, *, only_while_no_factor: bool) -> bool:
        """Delete one of the user's passkeys; False when it is not theirs (or not there). With
        `only_while_no_factor` (a password alone proved the removal) it is refused, FactorAdded,
        whenever the user has a factor: and the passkey to remove is one."""
        pk = credential_key(credential_id)
        listed: Operation = {
            "Update": {
                "TableName": self.table,
                "Key": key(owner_key(user_id)),
                "UpdateExpression": "DELETE ids :id",
                "ExpressionAttributeValues": {":id": {"SS": [pk]}},
            }
        }
        operations: list[Operation] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": key(pk),
                    "ConditionExpression": "user_id = :me",
                    "ExpressionAttributeValues": {":me": s(user_id)},
                }
            },
            listed,
        ]
        if only_while_no_factor:
            listed["Update"]["ConditionExpression"] = "attribute_not_exists(ids)"
            operations.append(no_active_totp_check(self.table, user_id))
        return write_unless_factor_added(self.dynamodb, operations)

    def use_operation(self, passkey: Passkey, sign_count: int, at_ms: int) -> Operation:
        """Record a sign-in (for the session's transaction): the new counter, only if the stored one
        is lower, or both are zero (an authenticator with no counter); and only while the credential
        still belongs to the account that was read."""
        moved = "sign_count < :count" if sign_count > 0 else "sign_count = :count"
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(credential_key(passkey.credential_id)),
                "UpdateExpression": "SET sign_count = :count, last_used = :now",
                "ConditionExpression": f"user_id = :owner AND {moved}",
                "ExpressionAttributeValues": {
                    ":count": n(sign_count),
                    ":now": n(at_ms),
                    ":owner": s(passkey.user_id),
                },
            }
        }
