"""What proves who someone is: signing keys, access and refresh tokens, passwords, TOTP codes."""
