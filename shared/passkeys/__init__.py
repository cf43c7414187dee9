"""Passkeys (WebAuthn): what both ceremonies share, registration and sign-in."""
