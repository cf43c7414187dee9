"""What `make mutate` mutates, and which tests each part runs against.

Functions are named, never lines: the mutants are generated from the code as it is at run time, so a
function that moves keeps being mutated and one that is renamed or removed is reported as missing
(update the list here). Methods are `Class.method`.

Each group is one mutmut run over a copy of the tree: mutmut runs the group's tests once to record
which test calls which function, then runs every mutant against only the tests of its group that
call the mutated function, fastest first, stopping at the first failure. A group's tests are the
focused ones: a surviving mutant runs all of them, so the broad suites (the 120 hostile access-token
cases, the 20-thread refresh race) stay out, their rules being tested here at the unit level.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    name: str
    title: str
    functions: dict[str, tuple[str, ...]]  # module path -> functions to mutate
    tests: tuple[str, ...]  # test files or node ids, and pytest options (`--deselect=...`)


CONCURRENT_REFRESHES = (
    "tests/integration/test_hostile_refresh_tokens.py::"
    "test_21_concurrent_refreshes_of_one_token_commit_one_successor_and_keep_the_user_logged_in"
)

GROUPS: tuple[Group, ...] = (
    Group(
        name="access",
        title="Access-token verification, the authorizer's decision and the route rules",
        functions={
            "shared/credentials/access_tokens.py": (
                "_reject_duplicates",
                "_strict_json_segment",
                "_is_integer",
                "_check_claim_types",
                "verify_access_token",
            ),
            "shared/authorizer/decision.py": (
                "authorization_header",
                "_named_authorization",
                "bearer_token",
                "authorize",
                "check_not_revoked",
                "_weak_for_called_route",
                "allow_policy",
            ),
            "shared/routes/declaration.py": (
                "Route.allows",
                "Route.strong_enough",
                "RouteTable.allowed_for",
                "_check_wildcards_do_not_widen",
            ),
            "shared/routes/wildcards.py": ("wildcard_matches",),
        },
        tests=(
            "tests/unit/test_mutation_access_tokens.py",
            "tests/unit/test_mutation_routes.py",
            "tests/unit/test_authorizer_policy.py",
            "tests/unit/test_routes.py",
            "tests/integration/test_mutation_revocation.py",
            "tests/integration/test_step_up.py",
        ),
    ),
    Group(
        name="refresh",
        title="Refresh rotation and the session store's conditions and expiry readers",
        functions={
            "shared/sessions/rotation.py": ("refresh",),
            "shared/credentials/refresh_tokens.py": ("session_id_of", "derive_child"),
            "shared/sessions/lifecycle.py": ("idle_expiry",),
            "shared/store/denylist.py": ("DenylistStore.session_not_revoked_checks",),
            "shared/store/session_items.py": ("Session.is_live", "RefreshRecord.is_usable"),
            "shared/store/sessions.py": (
                "SessionStore._put_new",
                "SessionStore.view",
                "SessionStore._session_still_valid",
                "SessionStore.rotate",
                "SessionStore.confirm_live",
                "SessionStore.revoke",
            ),
        },
        tests=("tests/integration/test_mutation_refresh.py",),
    ),
    Group(
        name="revocation",
        title="The denylist (its writes, conditions and expiry reader) and logout",
        functions={
            "shared/store/denylist.py": (
                "DenylistStore.revocations",
                "DenylistStore.deny_token_operation",
                "DenylistStore.deny_token",
                "DenylistStore.deny_session_operation",
                "DenylistStore.set_not_before",
                "DenylistStore.not_before_operation",
            ),
            "shared/sessions/lifecycle.py": (
                "revoke_session",
                "logout",
                "_named_own_session",
                "revocation_time",
            ),
        },
        tests=("tests/integration/test_mutation_revocation.py",),
    ),
    Group(
        name="login",
        title="Login and lockout (the atomic count below the threshold, the ceiling's known addresses)",
        functions={
            "shared/login/flow.py": (
                "normalise_email",
                "Admission.needs_step_up",
                "known_address",
                "reserve_login_attempt",
                "login",
                "finish_login",
                "_refusal",
            ),
            "shared/login/lockout.py": (
                "lock_seconds",
                "retry_after",
                "counted",
                "reserve_attempt",
                "_reserve",
            ),
            "shared/store/users.py": (
                "UserStore.login_state",
                "UserStore.attempts",
                "UserStore.add_attempt",
                "UserStore.reserve_attempts",
                "UserStore.count_code_attempt",
                "UserStore.reset_attempts_operations",
            ),
        },
        tests=(
            "tests/integration/test_mutation_login.py",
            "tests/integration/test_lockout_counts.py",
            # of the broad suites, only the tests that kill a mutant the focused ones miss: the hash
            # upgrade on login, the second-factor challenge, the new-device flag and a passkey's lost race
            "tests/integration/test_hostile_login.py::test_29_hashes_are_upgraded_on_login_when_parameters_rise",
            "tests/integration/test_mfa_http.py::test_login_with_a_factor_answers_a_challenge_then_tokens_with_amr_otp",
            "tests/integration/test_suspicious_activity.py::test_a_first_login_is_not_flagged_but_a_new_device_and_ip_later_is",
            "tests/integration/test_passkeys_http.py::test_two_sign_ins_of_one_counter_value_race_and_exactly_one_wins",
        ),
    ),
    Group(
        name="second-step",
        title="The login's second step: a factor's code, the code emailed past the ceiling, the "
        "wrong-code count and its unlock link",
        functions={
            "shared/login/challenge.py": ("second_factor_challenge",),
            "shared/login/step_up.py": ("code_digest", "code_matches", "email_code_challenge"),
            "shared/mfa/login_step.py": (
                "complete_login",
                "_emailed_code",
                "_close_code_login",
                "enrol_with_challenge",
            ),
            "shared/accounts/code_unlock.py": ("unlock_codes",),
            "shared/store/challenges.py": (
                "ChallengeStore.create",
                "ChallengeStore.get",
                "ChallengeStore.count_try",
                "ChallengeStore.consume_operation",
            ),
        },
        tests=(
            "tests/integration/test_mutation_second_step.py",
            "tests/integration/test_lockout_counts.py",
            "tests/integration/test_mfa_http.py",
            "tests/integration/test_assurance_paths.py",
            "tests/integration/test_links_and_factors.py::"
            "test_23_3_f_a_password_login_cannot_enrol_totp_beside_a_passkey_in_a_type_that_must_have_a_factor",
        ),
    ),
    Group(
        name="factors",
        title="Second factors: TOTP codes (the drift window, each step once), recovery codes, enrolment "
        "and removal",
        functions={
            "shared/credentials/totp.py": (
                "new_secret",
                "new_enrolment",
                "matching_step",
                "new_recovery_codes",
                "recovery_hash",
            ),
            "shared/mfa/factor.py": (
                "_context",
                "enrol_totp",
                "confirm_totp",
                "check_second_factor",
                "start_enrolment",
                "start_own_enrolment",
                "_count_attempt",
                "finish_enrolment",
                "remove_factor",
                "reset_factors",
            ),
            "shared/store/factors.py": (
                "FactorStore.totp",
                "FactorStore.has_active_totp",
                "FactorStore.put_pending_totp",
                "FactorStore.use_step",
                "FactorStore.no_active_totp_check",
                "FactorStore.recovery_hashes",
                "FactorStore.use_recovery_code",
                "FactorStore.remove_all",
            ),
        },
        tests=(
            "tests/unit/test_mutation_factors.py",
            "tests/integration/test_mutation_factors.py",
            "tests/integration/test_totp.py",
            "tests/integration/test_mfa_http.py",
            "tests/integration/test_links_and_factors.py::test_23_3_a_totp_enrolment_needs_a_fresh_login",
            "tests/integration/test_links_and_factors.py::test_23_3_e_every_factor_change_is_emailed",
            "tests/integration/test_links_and_factors.py::"
            "test_23_3_c_a_password_session_cannot_change_the_factors_of_an_account_with_a_passkey",
        ),
    ),
    Group(
        name="links",
        title="Single-use links: password reset (the link's use), invitations, the link store",
        functions={
            "shared/accounts/links.py": ("new_link", "is_token_shaped", "usable_link"),
            "shared/store/links.py": (
                "token_hash",
                "request_counter_keys",
                "mail_counter_key",
                "Link.is_live",
                "LinkStore.find",
                "LinkStore.current",
                "LinkStore.issue_operations",
                "LinkStore.count_mail_operation",
                "LinkStore.use_operations",
            ),
            "shared/accounts/password_reset.py": ("reset_password",),
            "shared/accounts/invitations.py": (
                "invite",
                "_undo_invitation",
                "_pending_invitation",
                "resend_invitation",
                "revoke_invitation",
                "accept_invitation",
            ),
        },
        tests=(
            "tests/integration/test_mutation_links.py",
            "tests/integration/test_account_lifecycle.py",
            # it asks each request to have finished within the floor on the real clock: under the
            # run's tracing a request can take longer (the request-limit part is not in this group)
            "--deselect=tests/integration/test_account_lifecycle.py::"
            "test_23_7_one_attacker_cannot_send_a_victim_more_reset_emails_a_day_than_the_limit",
            # a link never skips a factor (issue 23, finding 1)
            *(
                f"tests/integration/test_links_and_factors.py::{name}"
                for name in (
                    "test_23_1_a_reset_link_on_an_account_with_totp_yields_no_tokens",
                    "test_23_1_b_reset_link_on_an_account_with_a_passkey_yields_no_tokens",
                    "test_23_1_c_reset_link_into_a_type_that_must_have_a_factor_yields_no_tokens",
                    "test_23_1_d_an_invitation_into_a_type_that_must_have_a_factor_yields_no_tokens",
                    "test_23_1_e_a_reset_without_any_factor_still_signs_in_with_amr_pwd",
                    "test_23_1_f_a_factor_added_while_a_reset_link_is_used_gets_no_session",
                )
            ),
        ),
    ),
    Group(
        name="passwords",
        title="The password policy: length, the email, names, common passwords and their decorations",
        functions={
            "shared/credentials/passwords.py": ("verify_password", "needs_rehash", "check_password_policy"),
            "shared/credentials/password_context.py": ("_fold", "context_names", "is_built_from"),
            "shared/credentials/breached_passwords.py": (
                "_fold",
                "_repeated_unit",
                "_undecorated",
                "forms",
                "is_common",
                "check_not_breached",
            ),
        },
        tests=(
            "tests/unit/test_mutation_passwords.py",
            "tests/unit/test_password_context.py",
            "tests/unit/test_breached_passwords.py",
        ),
    ),
    Group(
        name="passkeys",
        title="Passkeys: the ceremony's parsing, sign-in and registration",
        functions={
            "shared/passkeys/ceremony.py": (
                "amr_of",
                "_b64url",
                "parse_answer",
                "parse_name",
                "challenge_bytes",
                "new_challenge",
                "relying_party",
            ),
            "shared/passkeys/sign_in.py": ("login_options", "login", "_cloned"),
            "shared/passkeys/registration.py": (
                "_fresh_proof",
                "registration_options",
                "_descriptor",
                "register",
                "remove",
            ),
        },
        tests=(
            "tests/unit/test_mutation_passkeys.py",
            "tests/integration/test_mutation_passkeys.py",
            "tests/integration/test_passkeys_http.py",
            # changing factors takes a factor (issue 23, finding 3)
            *(
                f"tests/integration/test_links_and_factors.py::{name}"
                for name in (
                    "test_23_3_b_a_password_session_cannot_add_a_passkey_to_an_account_with_totp",
                    "test_23_3_c_a_password_session_cannot_change_the_factors_of_an_account_with_a_passkey",
                    "test_23_3_d_a_stale_second_factor_login_cannot_remove_a_passkey",
                )
            ),
        ),
    ),
    Group(
        name="grant",
        title="Session grant, the assurance model, the refresh cookie and notifications",
        functions={
            "shared/sessions/lifecycle.py": (
                "grant",
                "start_session",
                "live_sessions",
                "end_session",
                "clean_up_sessions",
                "logout_all",
            ),
            "shared/sessions/assurance.py": (
                "has_factor",
                "no_factor_checks",
                "factor_due",
                "require_fresh_proof",
            ),
            "shared/http/proxy.py": ("refresh_cookie", "clear_refresh_cookie"),
            "shared/http/reply.py": ("render",),
            "shared/http/endpoint.py": ("token_reply", "session_reply", "link_reply"),
            "shared/mail/notifications.py": (
                "notify",
                "notify_address",
                "notify_password_changed",
                "notify_new_device",
                "notify_recovery_code_used",
                "_notify_sign_in",
                "notify_passkey_added",
                "notify_factor_changed",
            ),
        },
        tests=(
            "tests/integration/test_mutation_grant.py",
            # the grant a refresh answers: its auth_time is the session's (issue 30, rule 1)
            "tests/integration/test_mutation_refresh.py::"
            "test_30_1_a_refresh_keeps_the_sessions_auth_time_so_an_old_login_stays_old",
        ),
    ),
    Group(
        name="http",
        title="HTTP: the refresh cookie, cookie mode and CORS",
        functions={"shared/http/proxy.py": ("Request.header", "Request.cookie", "cors_headers")},
        tests=("tests/unit/test_mutation_http.py", "tests/integration/test_mutation_http.py"),
    ),
)

# Lines whose expressions are not mutated: what they change is only log text (audit events, the free
# `detail` of a domain error, never its reason code, the name of a failed dependency (a 503's body is
# the same for all), the arguments of refuse_link (which only pick the audit record: every bad link
# gets the same 400, and deleting the call is a rule mutant), a log line's
# message and extra fields, the message of a ValueError that only a programming error raises), which
# no rule depends on.
DO_NOT_MUTATE_PATTERNS: tuple[str, ...] = (
    r"^\s*_?audit(_login)?\(",
    r"raise \w+\(Reason\.\w+, ",
    r"raise ServiceUnavailable\(",
    r"^\s*refuse_link\(",
    r"^\s*logger\.(debug|info|warning|error)\(\"",
    r"^\s*\"[^\"]*\", extra=\{",
    r"raise ValueError\(\"",
)


def mangled(module: str, function: str) -> str:
    """mutmut's name for a function: `shared.credentials.access_tokens.x_verify` or
    `shared.http.proxy.xǁRequestǁcookie`."""
    dotted = module.removesuffix(".py").replace("/", ".")
    if "." in function:
        cls, method = function.split(".", 1)
        return f"{dotted}.x\u01c1{cls}\u01c1{method}"
    return f"{dotted}.x_{function}"


# Found on the way, and what the mutation run leaves to others (rendered into docs/mutation.md).
NOTES: tuple[str, ...] = (
    "Issue 30: the rotation's condition that the parent is still active (`#status = :active` on the "
    "presented token) was listed here as masked by the child's `attribute_not_exists(pk)`. It is not: "
    "during a rotation of the refresh-derivation key two containers holding different keys derive "
    "different children of one parent, and that condition alone stops the session forking into two "
    "live refresh chains. test_mutation_refresh.py::test_30_2_two_containers_on_two_derivation_keys_"
    "never_fork_a_session drives exactly that, and a critical rule mutant deletes the condition. The "
    "session's own `#status = :active` (a revocation between the read and the write) and the other "
    "whole-check deletions of rotation are killed by the refresh group's own tests now, not only by "
    "the broad suites (test_interleavings.py, test_hostile_refresh_tokens.py).",
    "Two link checks guard each other and are no rule mutants alone: usable_link's purpose check and "
    "reset_password's `if user.disabled`. A link is used only at the account version it was issued "
    "for, every account change bumps the version, an invitation's account is created disabled and a "
    "reset link is issued only to an enabled account in a transaction conditioned on its version: so "
    "an invitation link presented for a reset meets `user.disabled`, and a reset link presented for "
    "an invitation meets accept_invitation's `not user.disabled`. Deleting either check alone changes "
    "no answer (tried: both survive every test); deleting both lets an invitation link reset a password "
    "(test_account_lifecycle.py::test_an_invitation_link_cannot_reset_and_a_reset_link_cannot_accept).",
    'docs/hostile-inputs.md entry 41 (`Cookie: prefs={"a":1}; refresh_token=...` hid the refresh cookie, '
    "because http.cookies gave up on the whole header at the JSON value) is fixed: issue 11's parser "
    "reads the header pair by pair; tests/unit/test_mutation_http.py holds it as an ordinary test.",
    "The run of 2026-12-02 (the machine shared, load average about 5 on 2 cores) recorded four login "
    "mutants as killed that cannot change an answer (retry_after's `remaining_ms >= 0`, lock_seconds' "
    "cap of 21, and two DynamoDB keywords lower-cased in reserve_attempts): each was killed only after "
    "minutes, near the end of its run. Run again against the broad suites, reserve_attempts' `and` "
    "failed test_hostile_login.py::"
    "test_25_repeated_failures_lock_real_and_unknown_emails_with_identical_429s, "
    "which ran on the real clock: when a second passed between the real account's lock and the unknown "
    "one's, their Retry-After differed (29 against 30). It and the exponential-lock test now run on a "
    "pinned clock (shown failing first with every password check made 0.3 s slower); the four survive "
    "the login group's tests and are listed as equivalent.",
    "A group runs its focused tests (test_mutation_*.py) and, of the broad suites, only the tests "
    "that kill a mutant the focused ones miss, found by running each survivor of a focused-only run "
    "against the broad suites (`MUTANT_UNDER_TEST=<name> pytest ...` in a kept copy's mutants/); "
    "the lockout mutants that only a broad suite or nothing caught have focused tests now. Under "
    "mutation runs (tests/mutation/plugin.py) argon2 hashes cheaply and botocore's models are read "
    "once per process, and pytest skips its garbage-collection pass after each mutant: a test's "
    "set-up went from 1.1 s to 0.4 s.",
    "The measurement of 2026-12-02 ran its groups as separate, partly concurrent runs (the machine "
    "shared with two other sessions' test runs, load average 6 to 7 on 2 cores), combined with "
    "`--rerun`; a stopped runner's finished groups were taken with `--adopt` (their CPU time not "
    "measured). Each group's minutes are its own run's wall time under that load: the CPU minutes "
    "are what the run costs.",
    "Issue 30 widened the run to the whole security core: second factors (TOTP, recovery codes), "
    "single-use links (reset, invitations, the link store), the password policy, passkeys, session "
    "grant, the assurance model, the refresh cookie and notifications, each group with focused tests "
    "(test_mutation_factors.py, _links, _passwords, _passkeys, _grant). The rules an audit found "
    "unguarded each have a test shown failing with the rule removed, and a rule mutant here: a refresh "
    "keeps the session's auth_time, two containers on two derivation keys never fork a session, the "
    "reset applies the password policy, the forgotten-password limit per address across accounts, the "
    "TOTP window of exactly one step either side, recovery codes stored only as hashes and at full "
    "entropy, the repetition rule, the cookie's attributes and the grant's lifetimes.",
    "Left to the login lockout's rewrite (another change owns shared/login/ and "
    "tests/integration/test_mutation_login.py): the login group is unchanged, and its rule mutant "
    "(a locked account's password checked anyway) is still killed only by the broad "
    "test_hostile_login.py, reported as a gap below.",
    "A revoked session's SID# entry lives until the session's end plus one access-token lifetime plus "
    "the leeway (issue 11), so it outlives the last token the session issued; "
    "test_mutation_revocation.py pins every entry's lifetime and the logout entry's to exp plus the leeway.",
)
