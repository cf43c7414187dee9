"""Signing keys and secrets.

RS256 / ES256: one asymmetric KMS key (SIGN_VERIFY) per name in the `signing_keys` context, the
first one active. The key policy lets only the roles of the functions that start sessions (SIGNERS:
login, refresh, password, invitations, recovery) call kms:Sign (an explicit
Deny covers everyone else, grants included); account administrators keep key administration, not
Sign. HS256: a generated Secrets Manager secret instead. Either way, the key that derives
grace-window refresh tokens is a generated secret: no key material is ever in the template.

Second factors: one symmetric KMS key (ENCRYPT_DECRYPT, yearly rotation) encrypts TOTP secrets, the
user id in the encryption context; only the roles infra/permissions.py names may use it, and only
with that purpose in the context.
"""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import DeployConfig
from infra.tables import removal_policy
from shared.credentials.signing import KMS_KEY_SPEC, KMS_SIGNING_ALGORITHM
from shared.mfa.context import FACTOR_PURPOSE

# Key administration without any cryptographic use and without kms:CreateGrant (a grant could hand
# out Sign). kms:GetPublicKey is granted separately (the public key is public).
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:GetKeyPolicy",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
_KEY_SPECS = {"RSA_2048": kms.KeySpec.RSA_2048, "ECC_NIST_P256": kms.KeySpec.ECC_NIST_P256}


class SigningKeys(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        signers: list[iam.IRole],
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.signers = signers
        self.keys: list[kms.Key] = [self._signing_key(name) for name in config.signing_keys]
        self.hs256_secret = (
            self._generated_secret("Hs256Secret", "HS256 signing secret") if not config.uses_kms else None
        )
        self.refresh_key_secret = self._generated_secret(
            "RefreshKeySecret", "derives the grace-window refresh tokens"
        )
        self.factor_key = self._factor_key()

    # ------------------------------------------------------------------------------------- KMS
    def _signing_key(self, name: str) -> kms.Key:
        algorithm = self.config.signing_algorithm
        key = kms.Key(
            self,
            f"SigningKey{name}",
            description=f"jwt-auth {self.config.stage} access-token signing key '{name}' ({algorithm})",
            key_spec=_KEY_SPECS[KMS_KEY_SPEC[algorithm]],
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            policy=self._key_policy(),
            removal_policy=removal_policy(self.config),
            pending_window=Duration.days(30),
        )
        key.add_alias(f"alias/jwt-auth-{self.config.stage}-{name}")
        # KMS refuses a key policy naming a principal that does not exist yet ("invalid principals"):
        # the key waits for every role its policy names, explicitly, not only through the ARNs. The
        # roles themselves, not their policies (those name the key: a cycle).
        key_resource = cast(cdk.CfnResource, key.node.default_child)
        for role in self.signers:
            key_resource.add_resource_dependency(cast(cdk.CfnResource, role.node.default_child))
        return key

    def _key_policy(self) -> iam.PolicyDocument:
        account = iam.AccountRootPrincipal()
        signer_arns = [role.role_arn for role in self.signers]
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="KeyAdministrationWithoutSigning",
                    principals=[account],
                    actions=list(KEY_ADMIN_ACTIONS),
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="PublicKeyReadsDelegatedToIam",
                    principals=[account],
                    actions=["kms:GetPublicKey"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="OnlyLoginAndRefreshSign",
                    principals=[iam.ArnPrincipal(arn) for arn in signer_arns],
                    actions=["kms:Sign"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {
                            "kms:SigningAlgorithm": KMS_SIGNING_ALGORITHM[self.config.signing_algorithm],
                            "kms:MessageType": "RAW",
                        }
                    },
                ),
                iam.PolicyStatement(
                    sid="NobodyElseSigns",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["kms:Sign"],
                    resources=["*"],
                    conditions={"ArnNotEquals": {"aws:PrincipalArn": signer_arns}},
                ),
            ]
        )

    def _factor_key(self) -> kms.Key:
        key = kms.Key(
            self,
            "FactorKey",
            description=f"jwt-auth {self.config.stage} second-factor secrets (TOTP), per-user context",
            key_usage=kms.KeyUsage.ENCRYPT_DECRYPT,
            enable_key_rotation=True,
            removal_policy=removal_policy(self.config),
            pending_window=Duration.days(30),
        )
        key.add_alias(f"alias/jwt-auth-{self.config.stage}-factors")
        return key

    def grant_factors(self, role: iam.IRole, *, encrypt: bool, decrypt: bool) -> None:
        actions = [*(["kms:Encrypt"] if encrypt else []), *(["kms:Decrypt"] if decrypt else [])]
        if actions:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=actions,
                    resources=[self.factor_key.key_arn],
                    conditions={
                        "StringEquals": {f"kms:EncryptionContext:{FACTOR_PURPOSE[0]}": FACTOR_PURPOSE[1]}
                    },
                )
            )

    # --------------------------------------------------------------------------------- secrets
    def _generated_secret(self, construct_id: str, purpose: str) -> secretsmanager.Secret:
        return secretsmanager.Secret(
            self,
            construct_id,
            description=f"jwt-auth {self.config.stage}: {purpose} (generated at deploy, 64 characters)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=removal_policy(self.config),
        )

    # ---------------------------------------------------------------------------------- grants
    def grant_sign(self, role: iam.IRole) -> None:
        if self.config.uses_kms:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["kms:Sign"], resources=[key.key_arn for key in self.keys])
            )
        else:
            self._grant_secret(role, self.hs256_secret)

    def grant_read_public_keys(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(self.read_public_keys_statement())

    def read_public_keys_statement(self) -> iam.PolicyStatement:
        """What verifying tokens takes: the public keys, or in HS256 mode the signing secret."""
        if self.config.uses_kms:
            return iam.PolicyStatement(
                actions=["kms:GetPublicKey"], resources=[key.key_arn for key in self.keys]
            )
        assert self.hs256_secret is not None  # type narrowing: HS256 mode creates it
        return iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"], resources=[self.hs256_secret.secret_arn]
        )

    def grant_read_refresh_key(self, role: iam.IRole) -> None:
        self._grant_secret(role, self.refresh_key_secret)

    @staticmethod
    def _grant_secret(role: iam.IRole, secret: secretsmanager.ISecret | None) -> None:
        assert secret is not None  # type narrowing: called only when the secret exists
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn])
        )

    def environment(self) -> dict[str, str]:
        """The key ids and secret ARNs; SIGNING_ALGORITHM comes with the other settings (infra/lambdas.py)."""
        env = {
            "REFRESH_KEY_SECRET_ARN": self.refresh_key_secret.secret_arn,
            "FACTOR_KEY_ID": self.factor_key.key_arn,
        }
        if self.config.uses_kms:
            env["SIGNING_KEY_IDS"] = ",".join(key.key_arn for key in self.keys)
        else:
            assert self.hs256_secret is not None  # type narrowing: HS256 mode creates it
            env["HS256_SECRET_ARN"] = self.hs256_secret.secret_arn
        return env
