"""Rule mutants: each deletes or weakens one security rule, named by the code it changes.

mutmut (`make mutate`) generates operator-level mutants inside plain functions, at run time. It does
not reach module-level constants or decorated functions (properties, cached functions), and it never
deletes a whole check. These mutants cover that, and the critical ones (the authorizer's decision
and the rotation conditions) run under `make test` (tests/mutation/test_critical_mutants.py), so a
deleted rule fails the build.

A mutant names the function it lives in (`Class.method`, or None for module level) and a piece of
code to find there (white space is free); finding it zero or several times is an error that says
to update this catalogue, never a silent pass. `replace` takes its place in a copy of the tree, and
the listed tests must then fail.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RuleMutant:
    name: str
    path: str
    function: str | None
    find: str
    replace: str
    tests: tuple[str, ...]
    critical: bool = False
    owner: str = ""  # set when another change owns the test that kills it


RULES: tuple[RuleMutant, ...] = (
    # --- the authorizer's decision -------------------------------------------------------------
    RuleMutant(
        "authorizer ignores a denied token id (logout's JTI# entry)",
        "shared/authorizer/decision.py",
        "check_not_revoked",
        "if revocations.jti_denied:",
        "if False:",
        (
            "tests/integration/test_mutation_revocation.py::test_a_denied_token_id_denies_until_its_own_expiry",
        ),
        critical=True,
    ),
    RuleMutant(
        "authorizer ignores a revoked session (SID# entry)",
        "shared/authorizer/decision.py",
        "check_not_revoked",
        "if revocations.session_revoked:",
        "if False:",
        (
            "tests/integration/test_mutation_revocation.py::"
            "test_a_session_ended_from_another_denies_its_access_tokens_by_its_entry_alone",
        ),
        critical=True,
    ),
    RuleMutant(
        "authorizer ignores the user's not-before",
        "shared/authorizer/decision.py",
        "check_not_revoked",
        "if claims.iat_ms <= revocations.not_before_ms:",
        "if False:",
        (
            "tests/integration/test_mutation_revocation.py::test_not_before_in_the_same_second_denies_the_older_token",
        ),
        critical=True,
    ),
    RuleMutant(
        "authorizer allows when the denylist cannot be read",
        "shared/authorizer/decision.py",
        "check_not_revoked",
        "raise InvalidAccessToken(Reason.UNDECIDABLE, error.dependency) from None",
        "return",
        ("tests/integration/test_mutation_revocation.py::test_an_unreadable_denylist_denies",),
        critical=True,
    ),
    RuleMutant(
        "authorizer's policy lists every protected route, whatever the type and role",
        "shared/authorizer/decision.py",
        "_grant",
        "for route in routes.allowed_for(user_type, role):",
        "for route in routes.protected():",
        ("tests/unit/test_authorizer_policy.py",),
        critical=True,
    ),
    RuleMutant(
        "authorizer's policy is not scoped to the calling API and stage",
        "shared/authorizer/decision.py",
        "_grant",
        'resource = f"{base}/{route.method}/',
        'resource = f"arn:aws:execute-api:*:*:*/*/{route.method}/',
        ("tests/unit/test_authorizer_policy.py",),
        critical=True,
    ),
    RuleMutant(
        "authorizer's policy grants a step-up route without a strong, fresh login",
        "shared/authorizer/decision.py",
        "_grant",
        "if route.step_up:",
        "if False:",
        ("tests/integration/test_step_up.py::test_a_password_login_is_sent_to_step_up_on_a_step_up_route",),
        critical=True,
    ),
    RuleMutant(
        "an unknown or missing kid falls back to our signing key",
        "shared/credentials/access_tokens.py",
        "verify_access_token",
        "raise InvalidAccessToken(Reason.UNKNOWN_KEY)",
        "key = keys.keys[keys.signer.kid]",
        (
            "tests/unit/test_mutation_access_tokens.py::test_our_own_signature_with_a_hostile_kid_is_refused_by_the_kid_rule",
        ),
        critical=True,
    ),
    RuleMutant(
        "expiry is not checked",
        "shared/credentials/access_tokens.py",
        "verify_access_token",
        'if payload["exp"] <= now - leeway:',
        "if False:",
        ("tests/unit/test_mutation_access_tokens.py::test_expiry_is_exact_to_the_leeway",),
        critical=True,
    ),
    RuleMutant(
        "typ is not checked",
        "shared/credentials/access_tokens.py",
        "verify_access_token",
        'if header.get("typ") != TOKEN_TYPE:',
        "if False:",
        ("tests/unit/test_mutation_access_tokens.py::test_each_header_rule_gives_its_own_reason",),
        critical=True,
    ),
    RuleMutant(
        "crit is not a forbidden header (PyJWT alone would refuse it)",
        "shared/credentials/access_tokens.py",
        None,
        '_FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit", "b64")',
        '_FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "b64")',
        ("tests/unit/test_mutation_access_tokens.py::test_each_header_rule_gives_its_own_reason",),
    ),
    RuleMutant(
        "the header alg is not compared with the key's (PyJWT's allow-list alone would refuse it)",
        "shared/credentials/access_tokens.py",
        "verify_access_token",
        'if header.get("alg") != key.algorithm:',
        "if False:",
        ("tests/unit/test_mutation_access_tokens.py::test_each_header_rule_gives_its_own_reason",),
    ),
    RuleMutant(
        "not-before compared in whole seconds",
        "shared/authorizer/decision.py",
        "check_not_revoked",
        "if claims.iat_ms <= revocations.not_before_ms:",
        "if claims.iat * 1000 <= revocations.not_before_ms:",
        (
            "tests/integration/test_mutation_revocation.py::test_not_before_in_the_same_second_denies_the_older_token",
        ),
    ),
    # --- refresh rotation ------------------------------------------------------------------------
    RuleMutant(
        "rotation does not check the user's or the global not-before",
        "shared/store/sessions.py",
        "SessionStore._session_still_valid",
        "*self.denylist.session_not_revoked_checks(session.user_id, session.sid, session.created_at),",
        "",
        (
            "tests/integration/test_mutation_refresh.py::test_refresh_after_a_not_before_is_refused_while_the_session_row_is_active",
        ),
        critical=True,
    ),
    RuleMutant(
        "rotation's transaction does not require the session to be active",
        "shared/store/sessions.py",
        "SessionStore._session_still_valid",
        '"ConditionExpression": "#status = :active AND abs_expires > :now_s",',
        '"ConditionExpression": "(#status = :active OR #status <> :active) AND abs_expires > :now_s",',
        (
            "tests/integration/test_mutation_refresh.py::"
            "test_30_3_a_rotation_losing_to_a_revocation_between_its_read_and_write_is_refused",
        ),
        critical=True,
    ),
    RuleMutant(
        "rotation does not require the parent to be still active (two derivation keys fork a session)",
        "shared/store/sessions.py",
        "SessionStore.rotate",
        '"ConditionExpression": "#status = :active AND idle_expires > :now_s AND abs_expires > :now_s",',
        '"ConditionExpression": "(#status = :active OR #status <> :active) AND idle_expires > :now_s '
        'AND abs_expires > :now_s",',
        (
            "tests/integration/test_mutation_refresh.py::test_30_2_two_containers_on_two_derivation_keys_never_fork_a_session",
        ),
        critical=True,
    ),
    RuleMutant(
        "a refresh stamps a fresh auth_time (a stolen refresh token becomes a fresh login)",
        "shared/sessions/lifecycle.py",
        "grant",
        "auth_time=session.auth_time,",
        "auth_time=at_ms // 1000,",
        (
            "tests/integration/test_mutation_refresh.py::test_30_1_a_refresh_keeps_the_sessions_auth_time_so_an_old_login_stays_old",
        ),
        critical=True,
    ),
    RuleMutant(
        "an ended session's refresh token is rotated (the session checked on the read)",
        "shared/sessions/rotation.py",
        "refresh",
        "if not session.is_live(at):",
        "if False:",
        (
            "tests/integration/test_mutation_refresh.py::test_30_3_a_token_of_an_ended_session_is_refused_as_ended_not_as_theft",
        ),
    ),
    RuleMutant(
        "a rotation that lost a race is refused instead of read again",
        "shared/sessions/rotation.py",
        "refresh",
        'if rejected.reasons[:2] != ["None", "None"]:',
        "if False:",
        (
            "tests/integration/test_mutation_refresh.py::test_a_token_rotated_between_the_read_and_the_write_gets_the_same_child",
        ),
    ),
    RuleMutant(
        "an expired refresh token is rotated (the check made on the read)",
        "shared/sessions/rotation.py",
        "refresh",
        "if not record.is_usable(at):",
        "if False:",
        (
            "tests/integration/test_mutation_refresh.py::test_30_3_an_expired_refresh_token_is_refused_on_the_read",
        ),
        critical=True,
    ),
    RuleMutant(
        "the grace window has no time bound",
        "shared/sessions/rotation.py",
        "refresh",
        "and at - record.used_at <= grace_ms",
        "",
        ("tests/integration/test_mutation_refresh.py::test_the_grace_window_ends_to_the_millisecond",),
        critical=True,
    ),
    RuleMutant(
        "the grace window applies after the child was used",
        "shared/sessions/rotation.py",
        "refresh",
        "and child_record.is_usable(at)",
        "",
        (
            "tests/integration/test_mutation_refresh.py::test_30_3_the_grace_window_never_applies_once_the_child_was_used",
        ),
        critical=True,
    ),
    RuleMutant(
        "a replayed refresh token does not revoke its session",
        "shared/sessions/rotation.py",
        "refresh",
        "revoke_session(services, session, REUSE, client)",
        "pass",
        (
            "tests/integration/test_mutation_refresh.py::test_a_replayed_refresh_token_ends_its_sessions_access_tokens_at_once",
        ),
        critical=True,
    ),
    # --- issue 30, rule 4: the rest of the security core ------------------------------------------
    RuleMutant(
        "the self-service reset skips the password policy",
        "shared/accounts/password_reset.py",
        "reset_password",
        'check_password_policy(new_password, "new_password", user.email, services.settings, name=user.name)',
        "pass",
        (
            "tests/integration/test_mutation_links.py::test_30_4_the_reset_applies_the_password_policy_and_the_link_survives_a_refusal",
        ),
    ),
    RuleMutant(
        "accepting an invitation skips the password policy",
        "shared/accounts/invitations.py",
        "accept_invitation",
        'check_password_policy(new_password, "new_password", user.email, services.settings, name=user.name)',
        "pass",
        (
            "tests/integration/test_account_lifecycle.py::test_a_common_password_is_refused_and_the_link_still_works",
        ),
    ),
    RuleMutant(
        "forgotten-password requests are limited per address and account, not per address across accounts",
        "shared/store/links.py",
        "request_counter_keys",
        'f"RESETIP#{source_ip[:64]}"',
        'f"RESETIP#{email}#{source_ip[:64]}"',
        (
            "tests/integration/test_mutation_links.py::test_30_4_forgotten_password_requests_from_one_address_are_limited_across_accounts",
        ),
    ),
    RuleMutant(
        "a TOTP code two steps away is accepted (the drift window widened)",
        "shared/credentials/totp.py",
        None,
        "DRIFT_STEPS = 1",
        "DRIFT_STEPS = 2",
        ("tests/unit/test_mutation_factors.py::test_a_code_two_steps_away_is_refused",),
    ),
    RuleMutant(
        "a TOTP code one step away is refused (the drift window closed)",
        "shared/credentials/totp.py",
        None,
        "DRIFT_STEPS = 1",
        "DRIFT_STEPS = 0",
        (
            "tests/unit/test_mutation_factors.py::test_a_code_of_the_step_or_one_either_side_is_accepted_and_names_its_step",
        ),
    ),
    RuleMutant(
        "recovery codes are stored as they are, not as hashes",
        "shared/mfa/factor.py",
        "enrol_totp",
        "hashes = [totp.recovery_hash(code) for code in enrolment.recovery_codes]",
        "hashes = list(enrolment.recovery_codes)",
        ("tests/integration/test_mutation_factors.py::test_recovery_codes_are_stored_only_as_their_hashes",),
    ),
    RuleMutant(
        "recovery codes drawn from a smaller alphabet (less entropy)",
        "shared/credentials/totp.py",
        None,
        '_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"',
        '_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz"',
        ("tests/unit/test_mutation_factors.py::test_recovery_codes_carry_their_full_entropy",),
    ),
    RuleMutant(
        "recovery codes' characters not drawn independently",
        "shared/credentials/totp.py",
        "new_recovery_codes",
        '"-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))',
        '"-".join([secrets.choice(_RECOVERY_ALPHABET) * 5] * 2)',
        ("tests/unit/test_mutation_factors.py::test_recovery_codes_carry_their_full_entropy",),
    ),
    RuleMutant(
        "the password policy's repetition rule is gone",
        "shared/credentials/breached_passwords.py",
        "forms",
        "found |= {_repeated_unit(form) for form in found}",
        "",
        (
            "tests/unit/test_mutation_passwords.py::test_a_listed_word_repeated_is_refused_though_its_repetition_is_not_listed",
        ),
    ),
    RuleMutant(
        "the password policy takes no names out (a password built from the user's name passes)",
        "shared/credentials/passwords.py",
        "check_password_policy",
        "if is_built_from(password, context_names(words, name, email)):",
        "if False:",
        (
            "tests/unit/test_mutation_passwords.py::test_the_policy_refuses_a_password_built_from_the_users_name",
        ),
    ),
    RuleMutant(
        "the refresh cookie is readable by scripts (no HttpOnly)",
        "shared/http/proxy.py",
        "refresh_cookie",
        "HttpOnly; Secure;",
        "Secure;",
        ("tests/integration/test_mutation_grant.py::test_the_refresh_cookie_has_every_attribute",),
    ),
    RuleMutant(
        "the refresh cookie travels over plain HTTP too (no Secure)",
        "shared/http/proxy.py",
        "refresh_cookie",
        "HttpOnly; Secure;",
        "HttpOnly;",
        ("tests/integration/test_mutation_grant.py::test_the_refresh_cookie_has_every_attribute",),
    ),
    RuleMutant(
        "in cookie mode the refresh token is in the body as well",
        "shared/http/reply.py",
        "render",
        "cookies.append(refresh_cookie(reply.refresh.token, reply.refresh.max_age, settings))",
        "cookies.append(refresh_cookie(reply.refresh.token, reply.refresh.max_age, settings))\n"
        '            body = {**(body or {}), "refresh_token": reply.refresh.token}',
        (
            "tests/integration/test_mutation_grant.py::test_in_cookie_mode_the_refresh_token_travels_only_in_the_cookie",
        ),
    ),
    RuleMutant(
        "a session starts without saying what was proven and when",
        "shared/sessions/lifecycle.py",
        "start_session",
        "if not amr or auth_time <= 0:",
        "if False:",
        ("tests/integration/test_mutation_grant.py::test_a_session_needs_what_was_proven_and_when",),
    ),
    RuleMutant(
        "a granted refresh token's lifetime ignores the session's absolute end",
        "shared/sessions/lifecycle.py",
        "grant",
        "min(idle_expires, session.abs_expires)",
        "idle_expires",
        (
            "tests/integration/test_mutation_grant.py::test_the_refresh_lifetime_is_the_nearer_of_idle_and_absolute_ends",
        ),
    ),
    RuleMutant(
        "a factor change takes a proof of any age",
        "shared/sessions/assurance.py",
        "require_fresh_proof",
        "fresh = auth_time > 0 and services.clock.now_ms() // 1000 - auth_time <= max_age",
        "fresh = auth_time > 0",
        ("tests/integration/test_mutation_grant.py::test_a_fresh_proof_is_fresh_until_max_age_inclusive",),
    ),
    RuleMutant(
        "with a factor, a password alone may change factors",
        "shared/sessions/assurance.py",
        "require_fresh_proof",
        "if fresh and amr and not has_factor(services, user_id):",
        "if fresh and amr:",
        ("tests/integration/test_mutation_grant.py::test_with_a_factor_only_a_factor_is_proof_enough",),
    ),
    RuleMutant(
        "a link of an older account version is used",
        "shared/accounts/links.py",
        "usable_link",
        "if user is None or user.version != found.user_version:",
        "if user is None:",
        ("tests/integration/test_mutation_links.py::test_a_link_of_another_account_version_is_refused",),
    ),
    RuleMutant(
        "an expired link is used",
        "shared/accounts/links.py",
        "usable_link",
        "if not found.is_live(at):",
        "if False:",
        (
            "tests/integration/test_mutation_links.py::test_a_reset_link_lives_until_its_second_and_not_one_more",
        ),
    ),
    RuleMutant(
        "registering a passkey takes no fresh proof",
        "shared/passkeys/registration.py",
        "_fresh_proof",
        "require_fresh_proof(services, caller.user_id, caller.amr, caller.auth_time)",
        "pass",
        ("tests/integration/test_passkeys_http.py::test_registration_needs_a_fresh_login",),
    ),
    RuleMutant(
        "a notification turned off is sent anyway",
        "shared/mail/notifications.py",
        "notify_address",
        "if template not in settings.notifications or not settings.mail_sender:",
        "if not settings.mail_sender:",
        (
            "tests/integration/test_mutation_grant.py::test_a_notification_is_sent_only_when_it_is_a_setting_and_mail_is_on",
        ),
    ),
    # --- revocation, login, HTTP -----------------------------------------------------------------
    RuleMutant(
        "the denylist reader ignores an entry 15 minutes before its expiry",
        "shared/store/denylist.py",
        "DenylistStore.revocations",
        'if number(item, "ttl", now_s + 1) > now_s}',
        'if number(item, "ttl", now_s + 1) > now_s + 900}',
        (
            "tests/integration/test_mutation_revocation.py::test_a_denied_token_id_denies_until_its_own_expiry",
        ),
    ),
    RuleMutant(
        "logout's denylist entry expires a leeway before the token",
        "shared/sessions/lifecycle.py",
        "logout",
        "denied_until = caller.exp + services.settings.clock_leeway",
        "denied_until = caller.exp - services.settings.clock_leeway",
        (
            "tests/integration/test_mutation_revocation.py::test_logout_entry_outlives_the_token_by_the_leeway",
        ),
    ),
    RuleMutant(
        "a locked account's password is checked anyway",
        "shared/login/lockout.py",
        "_reserve",
        "if wait:",
        "if False:",
        ("tests/integration/test_mutation_login.py::test_a_locked_login_is_refused_on_its_one_read",),
    ),
    RuleMutant(
        "cookie mode needs no X-Token-Transport header (the CSRF rule)",
        "shared/http/proxy.py",
        "Request.wants_cookie",
        "return self.header(COOKIE_MODE_HEADER).strip().lower() == COOKIE_MODE_VALUE",
        "return True",
        (
            "tests/integration/test_mutation_http.py::test_the_refresh_cookie_is_ignored_without_the_cookie_mode_header",
        ),
    ),
    RuleMutant(
        "CORS answers any origin",
        "shared/http/proxy.py",
        "cors_headers",
        "if origin and origin in settings.allowed_origins:",
        "if origin:",
        ("tests/unit/test_mutation_http.py::test_cors_allows_exactly_the_listed_origins",),
    ),
)


class RuleNotFound(Exception):
    """The code a rule mutant names is not there (any more): update tests/mutation/rules.py."""


def _function_span(tree: ast.Module, qualname: str) -> tuple[int, int]:
    """First and last line (1-based) of `name` or `Class.name`, decorators included."""
    scope: list[ast.stmt] = tree.body
    *classes, name = qualname.split(".")
    for cls in classes:
        found = [node for node in scope if isinstance(node, ast.ClassDef) and node.name == cls]
        if not found:
            raise RuleNotFound(f"class {cls} not found")
        scope = found[0].body
    for node in scope:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return first, node.end_lineno or node.lineno
    raise RuleNotFound(f"function {qualname} not found")


def mutate_source(source: str, rule: RuleMutant) -> str:
    """The source with the rule's code replaced, or RuleNotFound."""
    lines = source.splitlines(keepends=True)
    if rule.function is None:
        start, end = 0, len(source)
    else:
        first, last = _function_span(ast.parse(source), rule.function)
        start = sum(len(line) for line in lines[: first - 1])
        end = sum(len(line) for line in lines[:last])
    pattern = re.compile(r"\s+".join(re.escape(part) for part in rule.find.split()))
    matches = list(pattern.finditer(source, start, end))
    where = f"{rule.path}:{rule.function or '<module>'}"
    if len(matches) != 1:
        raise RuleNotFound(
            f"rule mutant {rule.name!r}: {rule.find!r} found {len(matches)} times in {where}, not once; "
            "the code changed: update tests/mutation/rules.py"
        )
    match = matches[0]
    mutated = source[: match.start()] + rule.replace + source[match.end() :]
    compile(mutated, rule.path, "exec")  # a mutant that does not even parse tests nothing
    return mutated


def project_files(root: Path = ROOT) -> list[str]:
    """Tracked files and new ones not ignored: what a mutant's copy of the tree needs."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def copy_tree(destination: Path, root: Path = ROOT) -> None:
    for name in project_files(root):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)


@dataclass(frozen=True)
class Outcome:
    rule: RuleMutant
    status: str  # killed | survived | pending (the killing tests are not there yet) | error
    seconds: float
    output: str = ""


@contextmanager
def tree_copy() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="rule-mutants-") as directory:
        destination = Path(directory)
        copy_tree(destination)
        yield destination


def run_rule(rule: RuleMutant, tree: Path, timeout: float = 600) -> Outcome:
    """Apply the mutant in `tree` (a copy), run its tests in a fresh interpreter, restore the file."""
    started = time.monotonic()
    test_files = {test.split("::")[0] for test in rule.tests}
    if not all((tree / name).is_file() for name in test_files):
        return Outcome(rule, "pending", 0.0, f"not in the tree yet: {sorted(test_files)}")
    target = tree / rule.path
    original = target.read_text(encoding="utf-8")
    target.write_text(mutate_source(original, rule), encoding="utf-8")
    try:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                *rule.tests,
            ],
            cwd=tree,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        target.write_text(original, encoding="utf-8")
    output = completed.stdout[-4000:] + completed.stderr[-2000:]
    status = {0: "survived", 1: "killed"}.get(completed.returncode, "error")
    return Outcome(rule, status, time.monotonic() - started, output)


def critical() -> tuple[RuleMutant, ...]:
    return tuple(rule for rule in RULES if rule.critical)
