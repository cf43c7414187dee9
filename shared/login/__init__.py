"""Login: the password step, the attempt counters (lockout) and the challenge of a second step."""
