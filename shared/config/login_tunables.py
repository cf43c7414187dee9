"""The tunables of the login lockout and of credential-stuffing detection: rows of
shared/config/tunables.py's one table, kept here by concern (the rules between them are that
table's `RULES`).
"""

from __future__ import annotations

from shared.config.parsing import DAY, HOUR, MINUTE, Tunable, int_tunable

LOCKOUT_TUNABLES: tuple[Tunable, ...] = (
    int_tunable(
        "LOCKOUT_THRESHOLD",
        "lockout_threshold",
        5,
        1,
        100,
        "failed logins on one account (email and user type) from one source IP before 429",
    ),
    int_tunable(
        "LOCKOUT_ACCOUNT_THRESHOLD",
        "lockout_account_threshold",
        50,
        1,
        10_000,
        "failed logins on one account from all IPs together before its ceiling: past it addresses the "
        "account signed in from before still get in, new ones are asked for an emailed code, and the "
        "owner is emailed",
    ),
    int_tunable(
        "LOCKOUT_BASE_SECONDS",
        "lockout_base_seconds",
        30,
        1,
        HOUR,
        "the first lock; it doubles with each further failure",
    ),
    int_tunable(
        "MFA_FAILURE_LIMIT",
        "mfa_failure_limit",
        10,
        3,
        100,
        "wrong second-factor codes in a row, from any address and over any time, after which code "
        "login is closed until a recovery code, a passkey or the emailed unlock link (the owner is "
        "emailed that the password was used)",
    ),
    int_tunable("LOCKOUT_MAX_SECONDS", "lockout_max_seconds", 15 * MINUTE, 1, DAY, "the longest lock"),
    int_tunable(
        "LOCKOUT_WINDOW_SECONDS",
        "lockout_window_seconds",
        HOUR,
        MINUTE,
        7 * DAY,
        "failures are forgotten this long after the last one",
    ),
    int_tunable(
        "STUFFING_THRESHOLD",
        "stuffing_threshold",
        10,
        2,
        10_000,
        "distinct accounts failing to log in from one IP within the window that raise "
        "`CredentialStuffingSuspected` and its alarm",
    ),
    int_tunable(
        "STUFFING_WINDOW_SECONDS",
        "stuffing_window_seconds",
        5 * MINUTE,
        MINUTE,
        DAY,
        "that window",
    ),
)
