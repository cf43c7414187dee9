"""Second factors: the TOTP factor with its recovery codes, and the second step of a login."""
