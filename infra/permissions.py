"""Who may do what: the one readable declaration of every function's permissions.

Derived from the calls each piece of logic makes (shared/store/, shared/credentials/signing.py). DynamoDB
transactions need the per-item action for each item they touch (Put -> PutItem, Update ->
UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem); there is no IAM action for
TransactWriteItems itself. No CDK import here: tests read the same data to assert the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Access:
    """What one function's role may do."""

    # table logical name (shared/store/tables.py) -> DynamoDB actions on the table
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # table logical name -> (index name, actions on that index)
    indexes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    # table logical name -> the only partition-key prefixes the role may touch there (IAM's
    # dynamodb:LeadingKeys): a function that needs a few item kinds of a table, not its accounts
    leading_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sign: bool = False  # kms:Sign on the signing keys (also enforced by the key policy)
    read_public_keys: bool = False  # kms:GetPublicKey on the signing keys
    read_refresh_key: bool = False  # the secret that derives grace-window refresh tokens
    send_mail: bool = False  # ses:SendEmail from the configured sender (context mail_sender) only
    encrypt_factors: bool = False  # kms:Encrypt on the factor key (a new TOTP secret)
    decrypt_factors: bool = False  # kms:Decrypt on the factor key (checking a TOTP code)
    memory_mb: int = 256
    # At least twice an AWS call's worst case (shared/core/aws.py: 3 attempts of 1 s + 1 s, plus backoff).
    timeout_seconds: int = 20


# Reading the HS256 secret replaces read_public_keys (and sign) in HS256 mode: whoever loads the key
# set (it signs and verifies with the same secret) reads it.
PERMISSIONS: dict[str, Access] = {
    # Login: one consistent read of the account and its failure counter (BatchGetItem), the failure
    # counter update and a password-hash upgrade (UpdateItem), the counter reset (Delete in the
    # session transaction), the session and its first refresh token (Put in that transaction).
    # With second factors (shared/mfa/login_step.py): the factor read (GetItem), the challenge written
    # (PutItem) and read (GetItem), the TOTP step used and a recovery code spent (UpdateItem), the
    # challenge deleted in the session transaction (DeleteItem), and the secret decrypted.
    "login": Access(
        tables={
            "Users": (
                "dynamodb:BatchGetItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
            "Sessions": ("dynamodb:PutItem",),
        },
        sign=True,
        read_public_keys=True,
        send_mail=True,  # the new-device notification (only a flagged login sends)
        decrypt_factors=True,
        memory_mb=1024,  # argon2id (m=19456 KiB, t=2): CPU scales with memory
    ),
    # Refresh: consistent read of parent, child and session (BatchGetItem); rotation transaction
    # (Update parent, Put child, Update session, ConditionCheck the not-before rows); theft revokes
    # the session (Update) and denies it (Put on the denylist).
    "refresh": Access(
        tables={
            "Sessions": ("dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"),
            "Denylist": ("dynamodb:ConditionCheckItem", "dynamodb:PutItem"),
        },
        sign=True,
        read_public_keys=True,
        read_refresh_key=True,
        memory_mb=512,
    ),
    # Logout: read the named refresh token and the session (GetItem), revoke it (Update) and deny
    # the access token (Put on the denylist, alone or in the revoke transaction).
    "logout": Access(
        tables={
            "Sessions": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
            "Denylist": ("dynamodb:PutItem",),
        },
    ),
    # Sessions (shared/accounts/actions.py): list the caller's sessions (Query on by_owner), read and
    # revoke one (GetItem; Update session + Put denylist), logout-all (not-before UpdateItem on the
    # denylist, then every live session revoked).
    "sessions": Access(
        tables={
            "Sessions": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
            "Denylist": ("dynamodb:PutItem", "dynamodb:UpdateItem"),
        },
        indexes={"Sessions": ("by_owner", ("dynamodb:Query",))},
    ),
    # Password change (shared/accounts/password_change.py): the account and its failure counter in one
    # consistent read (BatchGetItem), a wrong current password counted and the new hash stored (UpdateItem),
    # the user's access tokens denied (not-before UpdateItem on the denylist), every other live
    # session found (Query on by_owner) and revoked (Update session + Put denylist).
    "password": Access(
        tables={
            "Users": ("dynamodb:BatchGetItem", "dynamodb:UpdateItem"),
            "Sessions": ("dynamodb:UpdateItem",),
            "Denylist": ("dynamodb:PutItem", "dynamodb:UpdateItem"),
        },
        indexes={"Sessions": ("by_owner", ("dynamodb:Query",))},
        sign=True,  # the fresh session it answers with
        read_public_keys=True,
        send_mail=True,  # the password-changed notification
        memory_mb=1024,  # argon2id verify + hash
    ),
    # Invitations (shared/accounts/invitations.py): the admin's invite, resend and revoke read the
    # account and its current link (GetItem) and write the account and its link items in one transaction (Put,
    # Delete, ConditionCheck); accept reads the link and the account (GetItem), then sets the password
    # and uses the link up (Update, Delete) with the new session (Put on Sessions; ConditionCheck that no
    # second factor is due, else no session), and signs.
    "invitations": Access(
        tables={
            "Users": (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
            ),
            "Sessions": ("dynamodb:PutItem",),
        },
        sign=True,
        read_public_keys=True,
        send_mail=True,
        memory_mb=1024,  # argon2id hash
    ),
    # Password recovery (shared/accounts/password_reset.py): forgot counts the request (BatchGetItem, then
    # Update in a transaction), reads the account and its current link (GetItem), stores the new link (Put,
    # Delete, ConditionCheck) and emails it; reset reads the link, the account and the not-before (GetItem),
    # then in one transaction sets the password (Update), writes the not-before (Update), deletes the lock
    # counters and the link (Delete) and starts a session (Put on Sessions; ConditionCheck on the factor and
    # passkey items that none is due: otherwise no session), signs, and cleans up the older
    # sessions (Query on by_owner; Update session + Put denylist).
    "recovery": Access(
        tables={
            "Users": (
                "dynamodb:BatchGetItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
            ),
            "Sessions": ("dynamodb:PutItem", "dynamodb:UpdateItem"),
            "Denylist": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        },
        indexes={"Sessions": ("by_owner", ("dynamodb:Query",))},
        sign=True,
        read_public_keys=True,
        send_mail=True,
        memory_mb=1024,  # argon2id hash
    ),
    # TOTP factors (shared/mfa/factor.py): the factor and the challenge read (GetItem), a pending factor and
    # its recovery codes written (PutItem in a transaction), a step used or a factor activated
    # (UpdateItem), the factor removed (DeleteItem), the session's attempt counter (BatchGetItem, and
    # Update/Put in its reservation transaction); the secret encrypted and decrypted; whether the user
    # has a passkey (GetItem of the list: changing factors takes a factor, shared/sessions/assurance.py);
    # the owner emailed on a factor change. Only those item kinds: never an account item (where
    # password hashes live).
    "mfa": Access(
        tables={
            "Users": (
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
        },
        leading_keys={"Users": ("FACTOR#*", "RECOVERY#*", "MFACHALLENGE#*", "MFALOCK#*", "PASSKEYSOF#*")},
        encrypt_factors=True,
        decrypt_factors=True,
        send_mail=True,  # the totp-added and totp-removed notifications
    ),
    # Passkeys of the signed-in user (shared/passkeys/registration.py): the user's list and their
    # credentials read (GetItem, BatchGetItem), a registration challenge written (PutItem) and read
    # (GetItem), the new credential stored with the challenge's deletion and the list's update (Put,
    # Delete, Update in one transaction), one removed (Delete, Update); whether the user has a TOTP
    # factor (GetItem: changing factors takes a factor). Only those item kinds: never an account item.
    "passkeys": Access(
        tables={
            "Users": (
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
        },
        leading_keys={"Users": ("PASSKEY#*", "PASSKEYSOF#*", "PASSKEYCHALLENGE#*", "FACTOR#*")},
        send_mail=True,  # the passkey-added and passkey-removed notifications
    ),
    # Sign-in with a passkey (shared/passkeys/sign_in.py): a challenge written (PutItem) and read, the
    # credential read (GetItem), the account and its attempt counters (BatchGetItem), the attempt
    # reserved (Update in a transaction), then the session committed (Put on Sessions) with the
    # counters' reset, the device remembered, the challenge deleted and the sign counter moved
    # forward (Delete, Update); the token signed. The account item is read (its password hash with
    # it), as login reads it: no narrower key condition fits.
    "passkey_login": Access(
        tables={
            "Users": (
                "dynamodb:BatchGetItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
            "Sessions": ("dynamodb:PutItem",),
        },
        sign=True,
        read_public_keys=True,
        send_mail=True,  # the new-device notification (only a flagged login sends)
        memory_mb=512,
    ),
    # The demo car dealership.
    "cars": Access(
        tables={"Cars": ("dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")},
    ),
    # JWKS: the public keys only.
    "jwks": Access(read_public_keys=True),
    # Me: echoes what the authorizer verified; no AWS access at all.
    "me": Access(),
    # Authorizer: the revocation rows in one consistent BatchGetItem and the verification keys.
    "authorizer": Access(
        tables={"Denylist": ("dynamodb:BatchGetItem",)},
        read_public_keys=True,
        memory_mb=512,  # faster cold starts and RSA verification on the hot path
        timeout_seconds=15,
    ),
}

# The only roles the signing keys' policy lets call kms:Sign: the functions that start sessions.
SIGNERS = tuple(name for name, access in PERMISSIONS.items() if access.sign)


def access_for(function: str) -> Access:
    try:
        return PERMISSIONS[function]
    except KeyError:
        raise KeyError(
            f"function {function!r} has no entry in infra/permissions.py PERMISSIONS: declare what it may do"
        ) from None
