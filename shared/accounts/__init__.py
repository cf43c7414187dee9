"""Accounts: password change and operator actions, invitations, password reset and their one-time links."""
