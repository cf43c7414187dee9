"""Email: sending through SES, the templates, and the notifications about account changes."""
