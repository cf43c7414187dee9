"""The KMS encryption context entry every TOTP secret is encrypted with (beside the user id): the code
writes it and the stack's IAM condition requires it, so the factor key serves nothing else. Standard
library only: the CDK app imports it."""

FACTOR_PURPOSE = ("purpose", "totp-secret")
