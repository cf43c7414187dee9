"""Surviving mutants that no test can kill, each with the reason.

Matched by the function and the code the mutant changes (the stripped lines it removes and adds), so
an entry keeps matching when the code around it moves, and stops matching (and is reported as
unused) when the code it names changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Equivalent:
    function: str  # module.Class.function
    removed: str  # the lines the mutant removes, stripped, joined by "\n"
    added: str  # the lines it adds
    reason: str


CASE_FREE_HEADER = "Request.header lower-cases the name it is given: any case names the same header"

CODEC_NAMES = "codec names are case-insensitive: 'UTF-8' and 'ASCII' name the same codecs"
PYJWT_REQUIRE = (
    "our own claim checks require every claim, with its type, before PyJWT runs: PyJWT's own list of "
    "required claims can never be the one that refuses"
)

NOT_ACTIVE = (
    "a revoked session's status is only ever compared with 'active': any other word ends it alike "
    "(and the SID# denylist entry written in the same transaction denies its access tokens)"
)

SAME_MOMENT = (
    "the transaction compares expiries with the moment of the read, and expiries never change once "
    "written: refresh checked the same thing on the read (is_live, is_usable), so this copy of the "
    "check (whole seconds or not, or off by a day) cannot be the one that refuses"
)
USABLE = 'self.status == "active" and self.idle_expires * 1000 > at_ms'
SESSION_FIRST = (
    "a refresh token's absolute expiry is its session's, and refresh checks the session (is_live) "
    "before any of its tokens"
)

ONE_DOT = (
    "a refresh token has exactly one '.' (its shape is checked before it is derived from): every way "
    "of splitting it there gives the same session id"
)

LIVE = 'live = {item["pk"]["S"]: item for item in items if number(item, '
DEFAULT_UNUSED = "every entry is written with a ttl: the default for an entry without one is never used"
READ_LONGER = (
    "reads an entry as live past its ttl, or ignores the ttl: stricter, and each ttl already outlives "
    "what its entry denies (test_every_denylist_entry_outlives_what_it_denies), so only tokens that "
    "have expired by themselves meet it; issue 11 lengthens the SID# entries' ttl"
)
WHOLE_SECONDS = "an integer ttl compares the same with a time in seconds as with its floor"

COUNTED = "return Attempts(counter.key, failures, at_ms, at_ms + lock * 1000 if lock else 0, True)"
NEXT_STATE = (
    "`exists` of a counter's next state is never read: reserve_attempts writes the next state and "
    "conditions the write on the counter as read (its `exists`)"
)
SAME_LENGTH = (
    "the lists zipped always have the same length (a threshold per counter): `strict` never has "
    "anything to refuse"
)


DIGEST = 'return hmac.new(token.encode("utf-8"), code.encode("utf-8"), hashlib.sha256).hexdigest()'

CHALLENGE_PURPOSE = 'purpose=next((known for known in PURPOSES if known == purpose), "verify"),'
NEVER_UNKNOWN = (
    "every challenge is written by ChallengeStore.create with one of PURPOSES (its type says so), so "
    "the default for a purpose that is not one of them is never used"
)

EQUIVALENTS: tuple[Equivalent, ...] = (
    *(
        Equivalent("shared.store.challenges.ChallengeStore.get", CHALLENGE_PURPOSE, added, NEVER_UNKNOWN)
        for added in (
            CHALLENGE_PURPOSE.replace('"verify"),', "None),"),
            CHALLENGE_PURPOSE.replace(', "verify"),', ", ),"),
            CHALLENGE_PURPOSE.replace('"verify"),', '"XXverifyXX"),'),
            CHALLENGE_PURPOSE.replace('"verify"),', '"VERIFY"),'),
        )
    ),
    Equivalent(
        "shared.store.challenges.ChallengeStore.create",
        '**({"code_hash": s(challenge.code_hash)} if challenge.code_hash else {}),',
        '**({"code_hash": s(challenge.code_hash)} if (challenge.code_hash) or True else {}),',
        "a challenge with no code stores an empty code_hash instead of none: `get` reads both as the "
        "empty string, and code_matches refuses an empty digest either way",
    ),
    Equivalent(
        "shared.store.challenges.ChallengeStore.create",
        'TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"\n)',
        "TableName=self.table, Item=item, )",
        "the key is the hash of a fresh 256-bit random token: no two challenges ever share it, so the "
        "condition that none is overwritten never has one to refuse",
    ),
    *(
        Equivalent(
            function,
            "token = secrets.token_urlsafe(32)",
            "token = secrets.token_urlsafe(None)",
            "secrets.token_urlsafe's default is 32 random bytes (its DEFAULT_ENTROPY): the same token "
            "length and entropy",
        )
        for function in (
            "shared.login.step_up.email_code_challenge",
            "shared.login.challenge.second_factor_challenge",
        )
    ),
    Equivalent(
        "shared.login.step_up.email_code_challenge",
        "if remaining > 0:",
        "if remaining >= 0:",
        "at exactly 0 seconds left the mutant sleeps 0 seconds, which is no wait at all",
    ),
    *(
        Equivalent("shared.login.step_up.code_digest", DIGEST, added, CODEC_NAMES)
        for added in (
            DIGEST.replace('token.encode("utf-8")', 'token.encode("UTF-8")'),
            DIGEST.replace('code.encode("utf-8")', 'code.encode("UTF-8")'),
        )
    ),
    Equivalent(
        "shared.login.lockout.lock_seconds",
        "exponent = min(failures - threshold, 20)",
        "exponent = min(failures - threshold, 21)",
        "the cap only keeps the power of two finite: the longest lock is at most a day (the settings "
        "refuse more) and the base at least a second, so 2**20 bases are already past any longest lock",
    ),
    Equivalent(
        "shared.login.lockout.retry_after",
        "return math.ceil(remaining_ms / 1000) if remaining_ms > 0 else 0",
        "return math.ceil(remaining_ms / 1000) if remaining_ms >= 0 else 0",
        "at exactly 0 ms left both give 0 seconds",
    ),
    *(
        Equivalent("shared.login.lockout.counted", COUNTED, COUNTED.replace(", True)", added), NEXT_STATE)
        for added in (", None)", ", False)", ", )")
    ),
    Equivalent(
        "shared.login.lockout.counted",
        COUNTED,
        COUNTED.replace("else 0,", "else 1,"),
        "an unlocked counter stored as locked until 1 ms after 1970 instead of 0: both have long "
        "passed, so retry_after gives 0 either way, and nothing else reads it",
    ),
    Equivalent(
        "shared.login.lockout._reserve",
        "keep = 2 * settings.lockout_window_seconds",
        "keep = 3 * settings.lockout_window_seconds",
        "a counter kept longer: readers compare its last attempt with the window themselves, and the "
        "ttl only lets DynamoDB delete it (test_the_failure_counter_is_kept_at_least_a_window_past_"
        "the_last_failure pins the lower bound)",
    ),
    *(
        Equivalent(
            "shared.login.lockout.reserve_attempt", line, line.replace("strict=True", added), SAME_LENGTH
        )
        for line in ("for counter, threshold in zip(counters, thresholds, strict=True)",)
        for added in ("strict=None", "", "strict=False")
    ),
    *(
        Equivalent(
            "shared.store.denylist.DenylistStore.revocations",
            f'{LIVE}"ttl", now_s + 1) > now_s}}',
            f"{LIVE}{added}",
            reason,
        )
        for added, reason in (
            ("None, now_s + 1) > now_s}", READ_LONGER),
            ('"XXttlXX", now_s + 1) > now_s}', READ_LONGER),
            ('"TTL", now_s + 1) > now_s}', READ_LONGER),
            ('"ttl", now_s + 1) >= now_s}', READ_LONGER),
            ('"ttl", now_s + 2) > now_s}', DEFAULT_UNUSED),
        )
    ),
    Equivalent(
        "shared.store.denylist.DenylistStore.revocations",
        "now_s = at_ms // 1000",
        "now_s = at_ms / 1000",
        WHOLE_SECONDS,
    ),
    Equivalent(
        "shared.store.denylist.DenylistStore.revocations",
        "now_s = at_ms // 1000",
        "now_s = at_ms // 1001",
        READ_LONGER,
    ),
    *(
        Equivalent(
            "shared.store.denylist.DenylistStore.deny_session_operation",
            'item = {"pk": s(f"SID#{sid}"), "reason": s(reason), "ttl": n(expires)}',
            f'item = {{"pk": s(f"SID#{{sid}}"), {added}: s(reason), "ttl": n(expires)}}',
            "no code reads a SID# entry's reason: it is there for an operator reading the table",
        )
        for added in ('"XXreasonXX"', '"REASON"')
    ),
    Equivalent(
        "shared.sessions.lifecycle._named_own_session",
        "if not named or named == caller.sid or refresh_token is None:",
        "if not named or named == caller.sid and refresh_token is None:",
        "naming the caller's own current session by its refresh token ends the caller's session, "
        "which is what logout ends when nothing is named",
    ),
    Equivalent(
        "shared.sessions.rotation.refresh",
        "reloaded = False",
        "reloaded = None",
        "None and False are both false wherever `reloaded` is read (`not reloaded`, and the key cache's "
        "`not reload`)",
    ),
    *(
        Equivalent(
            "shared.credentials.refresh_tokens.derive_child", 'sid = token.split(".", 1)[0]', added, ONE_DOT
        )
        for added in (
            'sid = token.split(".", )[0]',
            'sid = token.rsplit(".", 1)[0]',
            'sid = token.split(".", 2)[0]',
        )
    ),
    Equivalent(
        "shared.credentials.refresh_tokens.derive_child",
        "return f\"{sid}.{b64url(hmac.new(key, token.encode('ascii'), hashlib.sha256).digest())}\"",
        "return f\"{sid}.{b64url(hmac.new(key, token.encode('ASCII'), hashlib.sha256).digest())}\"",
        CODEC_NAMES,
    ),
    *(
        Equivalent(
            f"shared.store.sessions.SessionStore.{method}", '":now_s": n(at_ms // 1000),', added, SAME_MOMENT
        )
        for method in ("rotate", "_session_still_valid")
        for added in ('":now_s": n(at_ms / 1000),', '":now_s": n(at_ms // 1001),')
    ),
    *(
        Equivalent(
            "shared.store.session_items.RefreshRecord.is_usable",
            f"{USABLE} and self.abs_expires * 1000 > at_ms",
            f"{USABLE} and self.abs_expires * {added}",
            SESSION_FIRST,
        )
        for added in ("1001 > at_ms", "1000 >= at_ms")
    ),
    *(
        Equivalent(
            "shared.store.sessions.SessionStore.revoke", '":revoked": s("revoked"),', added, NOT_ACTIVE
        )
        for added in ('":revoked": s("XXrevokedXX"),', '":revoked": s("REVOKED"),')
    ),
    Equivalent(
        "shared.credentials.access_tokens._strict_json_segment",
        'raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))',
        'raw = base64.urlsafe_b64decode(segment + "=" * (+len(segment) % 4))',
        "the decoder stops at the first '=': '===' where '=' is due decodes the same bytes, and a length "
        "of 1 modulo 4 is undecodable with any padding",
    ),
    Equivalent(
        "shared.credentials.access_tokens._strict_json_segment",
        'value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)',
        'value = json.loads(raw.decode("UTF-8"), object_pairs_hook=_reject_duplicates)',
        CODEC_NAMES,
    ),
    Equivalent(
        "shared.credentials.access_tokens.verify_access_token",
        '"require": _REQUIRED_CLAIMS,',
        '"XXrequireXX": _REQUIRED_CLAIMS,',
        PYJWT_REQUIRE,
    ),
    Equivalent(
        "shared.credentials.access_tokens.verify_access_token",
        '"require": _REQUIRED_CLAIMS,',
        '"REQUIRE": _REQUIRED_CLAIMS,',
        PYJWT_REQUIRE,
    ),
    Equivalent(
        "shared.credentials.access_tokens.verify_access_token",
        'if payload["iat"] > now + leeway or payload.get("nbf", 0) > now + leeway:',
        'if payload["iat"] > now + leeway or payload.get("nbf", 1) > now + leeway:',
        "a missing `nbf` reads as 1 instead of 0 (seconds since 1970): both are long past",
    ),
    *(
        Equivalent(
            "shared.credentials.access_tokens.verify_access_token",
            '"verify_signature": True,',
            added,
            "PyJWT ignores an option name it does not know, and verifies the signature by default",
        )
        for added in ('"XXverify_signatureXX": True,', '"VERIFY_SIGNATURE": True,')
    ),
    Equivalent(
        "shared.authorizer.decision.bearer_token",
        'match = _BEARER.fullmatch(authorization or "")',
        'match = _BEARER.fullmatch(authorization or "XXXX")',
        "a missing header becomes another string that does not match `Bearer <token>`: refused alike",
    ),
    Equivalent(
        "shared.authorizer.decision.allow_policy",
        "called = _weak_for_called_route(routes, match.group(2), match.group(3), weak) if weak else None",
        "called = _weak_for_called_route(routes, match.group(2), match.group(3), weak) "
        "if (weak) or True else None",
        "with no weak route the called route is never among them: the call only returns None slower",
    ),
    Equivalent(
        "shared.http.proxy.Request.cookie",
        'for pair in self.header("cookie").split(";"):',
        'for pair in self.header("COOKIE").split(";"):',
        CASE_FREE_HEADER,
    ),
)

# --- the password policy (issue 30) --------------------------------------------------------------
SAME_LENGTH_FORMS = (
    "each form has the password's length: str.translate maps one character to one, and each name is "
    "replaced by as many markers as it has characters, so `strict` never has anything to refuse"
)
EQUIVALENTS += (
    Equivalent(
        "shared.credentials.breached_passwords._repeated_unit",
        "for size in range(1, len(text) // 2 + 1):",
        "for size in range(1, len(text) // 2 + 2):",
        "the one more size tried, len // 2 + 1, divides the length only when it is the whole text "
        "(lengths 1 and 2: a divisor above half a number is the number itself), and then the unit "
        "returned is the text, as when no unit is found",
    ),
    Equivalent(
        "shared.credentials.breached_passwords._undecorated",
        "found |= {rest[:cut] for cut in range(end, len(rest) + 1)}",
        "found |= {rest[:cut] for cut in range(end, len(rest) + 2)}",
        "the one more cut is past the end, and a slice past the end is the whole string, already in the "
        "set (cut = len(rest)): the same set",
    ),
    *(
        Equivalent(
            "shared.credentials.password_context.is_built_from",
            'left = "".join(char for char, mark in zip(folded, form, strict=True) if mark != _TAKEN)',
            f'left = "".join(char for char, mark in zip(folded, form, {added}) if mark != _TAKEN)',
            SAME_LENGTH_FORMS,
        )
        for added in ("strict=None", "", "strict=False")
    ),
)

# --- second factors (issue 30) ---------------------------------------------------------------------
PYOTP_DEFAULTS = (
    "pyotp.TOTP's defaults are digits=6 and interval=30, the values DIGITS and STEP_SECONDS name "
    "(tests/unit/test_mutation_factors.py pins both): leaving either out builds the same generator"
)
EQUIVALENTS += (
    *(
        Equivalent(
            "shared.credentials.totp.matching_step",
            "totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)",
            added,
            PYOTP_DEFAULTS,
        )
        for added in (
            "totp = pyotp.TOTP(secret, interval=STEP_SECONDS)",
            "totp = pyotp.TOTP(secret, digits=DIGITS, )",
        )
    ),
    Equivalent(
        "shared.credentials.totp.matching_step",
        "current = int(at_seconds // STEP_SECONDS)",
        "current = int(at_seconds / STEP_SECONDS)",
        "int() truncates towards zero and // floors: they differ only below zero, and the time is "
        "seconds since 1970, never negative",
    ),
    Equivalent(
        "shared.credentials.totp.recovery_hash",
        'return hashlib.sha256(normalised.encode("utf-8")).hexdigest()',
        'return hashlib.sha256(normalised.encode("UTF-8")).hexdigest()',
        CODEC_NAMES,
    ),
    Equivalent(
        "shared.store.factors.FactorStore.put_pending_totp",
        '"last_step": n(0),',
        '"last_step": n(1),',
        "the last step used only has to be below every step a code can name (`last_step < :step`): "
        "matching_step names steps within one of now's, and step 1 ended at 1970-01-01T00:01:00, so "
        "0 and 1 refuse and accept the same steps",
    ),
    Equivalent(
        "shared.store.factors.FactorStore.use_step",
        'update = "SET last_step = :step" + (", #status = :active" if activate else "")',
        'update = "SET last_step = :step" + (", #status = :active" if (activate) or True else "")',
        "without `activate` the condition requires `#status = :active` already (and `:active` is among "
        "the values): setting it to active again writes the value it has",
    ),
)

# --- session grant (issue 30) -----------------------------------------------------------------------
FRESH = "fresh = auth_time > 0 and services.clock.now_ms() // 1000 - auth_time <= max_age"
UNSTORED_STATUS = (
    "a new Session's status is never stored nor read: SessionStore.create writes status 'active' "
    "whatever the object says, and the grant built from it reads only its identity, sid, amr and "
    "auth_time (the tests read the stored session back: it is active)"
)
EQUIVALENTS += (
    *(
        Equivalent(
            "shared.sessions.assurance.require_fresh_proof",
            FRESH,
            FRESH.replace("auth_time > 0", added),
            "an auth_time of 0 or 1 (epoch seconds) is over 56 years before any clock this runs on, and "
            "the longest max_age the settings allow is 7 days: the age half refuses it either way",
        )
        for added in ("auth_time >= 0", "auth_time > 1")
    ),
    *(
        Equivalent("shared.sessions.lifecycle.start_session", 'status="active",', added, UNSTORED_STATUS)
        for added in ("status=None,", 'status="XXactiveXX",', 'status="ACTIVE",')
    ),
)

# --- invitations (issue 30) ----------------------------------------------------------------------
UNUSABLE = "unusable = secrets.token_urlsafe(32)  # nobody knows it: login fails like a wrong password"
PENDING = "pending = Link(current, INVITATION, user.user_type, user.email, user.version, 0)"
ONLY_KEYS = (
    "revoking builds the link only to use it up, and LinkStore.use_operations reads only its hash, "
    "purpose, type and email: its version and expiry are never read"
)
EQUIVALENTS += (
    *(
        Equivalent(
            "shared.accounts.invitations.invite",
            UNUSABLE,
            UNUSABLE.replace("(32)", added),
            "the invited account's password is random and told to nobody (accepting the invitation "
            "sets a real one): 33 random bytes, or the default of 32 (None), are as unguessable",
        )
        for added in ("(None)", "(33)")
    ),
    Equivalent(
        "shared.accounts.invitations.invite",
        "version=1,",
        "version=2,",
        "the invitation link records the version the account is created with, whatever it is, and "
        "every later check compares the account's version with the link's, never with a constant",
    ),
    Equivalent(
        "shared.accounts.invitations.invite",
        'raise BadRequest("email" if str(error) == "email" else "name", f"invalid {error}") from None',
        'raise BadRequest("email" if (str(error) == "email") and False else "name", f"invalid {error}") '
        "from None",
        "check_identity's messages are 'user id', 'email or name' and 'role or type', never 'email' "
        "(check_new_account has refused a bad email before): the field is always 'name' either way",
    ),
    *(
        Equivalent("shared.accounts.invitations.revoke_invitation", PENDING, added, ONLY_KEYS)
        for added in (
            PENDING.replace("user.version, 0)", "None, 0)"),
            PENDING.replace("user.version, 0)", "user.version, None)"),
            PENDING.replace("user.version, 0)", "user.version, 1)"),
        )
    ),
    Equivalent(
        "shared.accounts.invitations.accept_invitation",
        "[*commit, *no_factor_checks(services, user.user_id)],",
        "[*commit, *no_factor_checks(services, None)],",
        "an invited account has no factor to check: it is disabled from its creation until this very "
        "transaction enables it, so it never had a session to add one with (factors are kept by user "
        "id, a new random id per account; an operator can only remove factors); the check holds for "
        "the account's id and for None alike",
    ),
)

EQUIVALENTS += (
    Equivalent(
        "shared.accounts.links.is_token_shaped",
        'return len(token) == TOKEN_LENGTH and all(c.isascii() and (c.isalnum() or c in "-_") '
        "for c in token)",
        'return len(token) == TOKEN_LENGTH and all(c.isascii() and (c.isalnum() or c in "XX-_XX") '
        "for c in token)",
        "the only characters the mutant adds, 'X', are alphanumeric: allowed already",
    ),
    Equivalent(
        "shared.store.links.Link.is_live",
        "return at_ms // 1000 < self.expires",
        "return at_ms / 1000 < self.expires",
        "`expires` is a whole number of seconds, and for a whole number E, floor(x) < E exactly when x < E",
    ),
)

# --- passkeys (issue 30) -------------------------------------------------------------------------
WELL_FORMED = "well_formed = 0 < len(credential_id) <= 2 * MAX_CREDENTIAL_ID_BYTES and all("
ID_CHARS = 'c.isascii() and (c.isalnum() or c in "-_") for c in credential_id'
SPARES_A_READ = (
    "`well_formed` only spares a read: the id is then looked for, by equality, among the caller's own "
    "passkeys, whose ids are base64url of at most 1023 bytes (at most 1364 characters, never empty), "
    "so an id the check would refuse matches none of them, read or not: NotFound either way"
)
AUDIT_ONLY = "the argument only names what the audit record says: the answer is the same"
EQUIVALENTS += (
    *(
        Equivalent(
            "shared.passkeys.registration.remove", WELL_FORMED, WELL_FORMED.replace(old, new), SPARES_A_READ
        )
        for old, new in (
            ("BYTES and all(", "BYTES or all("),
            ("0 < len", "1 < len"),
            ("0 < len", "0 <= len"),
            ("<= 2 *", "< 2 *"),
            ("2 * MAX", "3 * MAX"),
        )
    ),
    *(
        Equivalent("shared.passkeys.registration.remove", ID_CHARS, ID_CHARS.replace(old, new), SPARES_A_READ)
        for old, new in (("c.isascii() and", "c.isascii() or"), ('"-_"', '"XX-_XX"'))
    ),
    Equivalent(
        "shared.passkeys.registration.remove",
        "own = services.passkeys.of_user(caller.user_id) if well_formed else []",
        "own = services.passkeys.of_user(caller.user_id) if (well_formed) or True else []",
        SPARES_A_READ,
    ),
    *(
        Equivalent(
            "shared.passkeys.registration.remove",
            "_fresh_proof(services, caller, client, Event.PASSKEY_REMOVED)",
            added,
            "_fresh_proof passes its client and event only to the audit record of a refusal: " + AUDIT_ONLY,
        )
        for added in (
            "_fresh_proof(services, caller, None, Event.PASSKEY_REMOVED)",
            "_fresh_proof(services, caller, client, None)",
        )
    ),
    *(
        Equivalent(
            "shared.passkeys.sign_in.login",
            "services, passkey.user_type, passkey.email, client, at, passkey.user_id",
            added,
            "reserve_login_attempt's user_id names whose lockout the audit records (by default the "
            "account's, which is the passkey's: the account is then checked to be the passkey's own): "
            + AUDIT_ONLY,
        )
        for added in ("services, passkey.user_type, passkey.email, client, at, None",)
    ),
    Equivalent(
        "shared.passkeys.sign_in.login",
        "services, passkey.user_type, passkey.email, client, at, passkey.user_id\n)",
        "services, passkey.user_type, passkey.email, client, at, )",
        "reserve_login_attempt's user_id names whose lockout the audit records (by default the "
        "account's, which is the passkey's: the account is then checked to be the passkey's own): "
        + AUDIT_ONLY,
    ),
    Equivalent(
        "shared.passkeys.sign_in.login",
        "raise InvalidCredentials(Reason.INVALID_IDENTITY) from None",
        "raise InvalidCredentials(None) from None",
        "an InvalidCredentials' reason is only logged: every refused sign-in is the same 401",
    ),
)

EQUIVALENTS += (
    Equivalent(
        "shared.passkeys.sign_in.login",
        "if (count > 0 or passkey.sign_count > 0) and count <= passkey.sign_count:",
        "if (count > 1 or passkey.sign_count > 0) and count <= passkey.sign_count:",
        "the two differ only for a count of 1 with a stored count of 0, where `count <= "
        "passkey.sign_count` is false either way",
    ),
    *(
        Equivalent(
            "shared.passkeys.sign_in.login",
            f'_cloned(client, user.user_id, f"counter {{count}} {detail}")',
            f'_cloned(client, None, f"counter {{count}} {detail}")',
            "_cloned's user id is only what its audit records name: it refuses (401) either way",
        )
        for detail in ("after {passkey.sign_count}", "used concurrently")
    ),
)

COUNTER = "if (count > 0 or passkey.sign_count > 0) and count <= passkey.sign_count:"
COUNTER_WRITTEN = (
    "the counter is checked again where it is written, in the session's transaction "
    "(PasskeyStore.use_operation: the stored counter below the new one, or both zero), against the "
    "same stored value this check read; a refusal there is audited as a clone too (`refused`) and "
    "answers the same 401: only the audit's free detail text differs"
)
PADDING = (
    "the decoder stops at the first '=': '===' where '=' is due decodes the same bytes, and a length "
    "of 1 modulo 4 is refused before (parse_answer) or undecodable with any padding"
)
LOGIN_CHALLENGE = 'challenge, PasskeyChallenge("login", "", user_type, email, "", expires)'
EQUIVALENTS += (
    *(
        Equivalent("shared.passkeys.sign_in.login", COUNTER, COUNTER.replace(old, new), COUNTER_WRITTEN)
        for old, new in (
            ("count > 0 or passkey", "count > 0 and passkey"),
            ("passkey.sign_count > 0)", "passkey.sign_count > 1)"),
            ("count <= passkey", "count < passkey"),
        )
    ),
    *(
        Equivalent(
            "shared.passkeys.sign_in.login",
            'method="passkey",',
            added,
            "finish_login's `method` is only what its audit record names: " + AUDIT_ONLY,
        )
        for added in ("method=None,", 'method="XXpasskeyXX",', 'method="PASSKEY",')
    ),
    Equivalent(
        "shared.passkeys.ceremony._b64url",
        'return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))',
        'return base64.urlsafe_b64decode(value + "=" * (+len(value) % 4))',
        PADDING,
    ),
    Equivalent(
        "shared.passkeys.ceremony.challenge_bytes",
        'return base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))',
        'return base64.urlsafe_b64decode(challenge + "=" * (+len(challenge) % 4))',
        PADDING,
    ),
    Equivalent(
        "shared.passkeys.ceremony.new_challenge",
        "raw = secrets.token_bytes(CHALLENGE_BYTES)",
        "raw = secrets.token_bytes(None)",
        "secrets.token_bytes' default is DEFAULT_ENTROPY, 32 bytes: CHALLENGE_BYTES (pinned by "
        "test_a_challenge_is_256_random_bits_in_base64url)",
    ),
    Equivalent(
        "shared.passkeys.ceremony.new_challenge",
        'return raw, base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")',
        'return raw, base64.urlsafe_b64encode(raw).rstrip(b"XX=XX").decode("ascii")',
        "the last character of 32 bytes' base64 carries their last 2 bits and four zero bits, so it is "
        "one of AEIMQUYcgkosw048, never 'X': only the '=' is stripped either way",
    ),
    Equivalent(
        "shared.passkeys.ceremony.new_challenge",
        'return raw, base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")',
        'return raw, base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ASCII")',
        CODEC_NAMES,
    ),
    Equivalent(
        "shared.passkeys.registration.register",
        "_fresh_proof(services, caller, client, Event.PASSKEY_REGISTER)",
        "_fresh_proof(services, caller, client, None)",
        "_fresh_proof passes its event only to the audit record of a refusal: " + AUDIT_ONLY,
    ),
    *(
        Equivalent(
            "shared.passkeys.sign_in.login_options",
            "allow_credentials=[],",
            added,
            "py_webauthn's default for allow_credentials (None, or left out) is the empty list: the "
            "same options (tests/integration/test_mutation_passkeys.py reads allowCredentials: [])",
        )
        for added in ("allow_credentials=None,", "")
    ),
    *(
        Equivalent(
            "shared.passkeys.sign_in.login_options",
            LOGIN_CHALLENGE,
            LOGIN_CHALLENGE.replace('("login"', f'("{word}"'),
            "PasskeyStore.challenge reads every purpose but 'register' as a sign-in's: the same challenge",
        )
        for word in ("XXloginXX", "LOGIN")
    ),
    *(
        Equivalent(
            "shared.passkeys.sign_in.login_options",
            LOGIN_CHALLENGE,
            added,
            "a sign-in challenge's user id and session are never read: login checks its purpose, expiry, "
            "type and email only (the user id and session bind a registration's challenge)",
        )
        for added in (
            'challenge, PasskeyChallenge("login", "XXXX", user_type, email, "", expires)',
            'challenge, PasskeyChallenge("login", "", user_type, email, "XXXX", expires)',
        )
    ),
)

REFUSAL_REASON = (
    "_refuse_registration's reason goes only to its audit record: the 400 names `credential` with "
    "the message, whatever the reason"
)
EQUIVALENTS += (
    Equivalent(
        "shared.passkeys.registration.register",
        "raise _refuse_registration(caller, client, Reason.PASSKEY_CHALLENGE, UNUSABLE_CHALLENGE)",
        "raise _refuse_registration(caller, client, None, UNUSABLE_CHALLENGE)",
        REFUSAL_REASON,
    ),
    Equivalent(
        "shared.passkeys.registration.register",
        'caller, client, Reason.PASSKEY_REFUSED, "the passkey could not be verified"',
        'caller, client, None, "the passkey could not be verified"',
        REFUSAL_REASON,
    ),
    Equivalent(
        "shared.passkeys.registration.register",
        'credential_id = base64.urlsafe_b64encode(verified.credential_id).rstrip(b"=").decode("ascii")',
        'credential_id = base64.urlsafe_b64encode(verified.credential_id).rstrip(b"=").decode("ASCII")',
        CODEC_NAMES,
    ),
)

EQUIVALENTS += (
    Equivalent(
        "shared.passkeys.registration.register",
        "raise _refuse_registration(caller, client, Reason.PASSKEY_CHALLENGE, UNUSABLE_CHALLENGE) from None",
        "raise _refuse_registration(caller, client, None, UNUSABLE_CHALLENGE) from None",
        REFUSAL_REASON,
    ),
    Equivalent(
        "shared.passkeys.registration.registration_options",
        "_fresh_proof(services, caller, client, Event.PASSKEY_REGISTER)",
        "_fresh_proof(services, caller, client, None)",
        "_fresh_proof passes its event only to the audit record of a refusal: " + AUDIT_ONLY,
    ),
    Equivalent(
        "shared.passkeys.registration.registration_options",
        "attestation=AttestationConveyancePreference.NONE,",
        "",
        "py_webauthn's default attestation preference is NONE: the same options "
        "(test_registration_options_name_the_user_and_last_the_challenge_lifetime reads 'none')",
    ),
    Equivalent(
        "shared.passkeys.registration.registration_options",
        'user_id=caller.user_id.encode("utf-8"),',
        'user_id=caller.user_id.encode("UTF-8"),',
        CODEC_NAMES,
    ),
)

EQUIVALENTS += (
    Equivalent(
        "shared.sessions.lifecycle.clean_up_sessions",
        "",
        "",
        "the only mutant with no change in the body: `keep`'s default '' made 'XXXX' (the signature). "
        "A session id is 22 base64url characters, never 'XXXX' nor '': keeping either keeps nothing",
    ),
)

INVALID_IDENTITY = (
    'raise BadRequest("email" if str(error) == "email" else "name", f"invalid {error}") from None'
)
EQUIVALENTS += tuple(
    Equivalent(
        "shared.accounts.invitations.invite",
        INVALID_IDENTITY,
        INVALID_IDENTITY.replace(old, new),
        "check_identity's messages are 'user id', 'email or name' and 'role or type', never 'email': "
        "the condition is always false, so its first branch is never taken, and the field is 'name'",
    )
    for old, new in (
        ('("email" if', '("XXemailXX" if'),
        ('("email" if', '("EMAIL" if'),
        ("str(error) ==", "str(None) =="),
        ('== "email" else', '== "XXemailXX" else'),
        ('== "email" else', '== "EMAIL" else'),
    )
)

_used: set[Equivalent] = set()

# DynamoDB's expression keywords are case-insensitive: a mutant that only changes their case (mutmut
# lower-cases whole strings; the names and placeholders in ours are lower case already) is the same
# expression. Matched by rule rather than listed one by one.
DYNAMODB_KEYWORDS = {"set", "and", "or", "not", "add", "remove", "delete", "in", "between"}
KEYWORD_CASE = Equivalent(
    "(a store method)",
    "a DynamoDB expression",
    "the same expression, its keywords lower-cased",
    "DynamoDB's expression keywords (SET, AND, ADD, ...) are case-insensitive: the same expression",
)


def _only_keyword_case(removed: tuple[str, ...], added: tuple[str, ...]) -> bool:
    if len(removed) != 1 or len(added) != 1 or '"' not in removed[0]:
        return False
    before, after = re.findall(r"[A-Za-z_#:]+", removed[0]), re.findall(r"[A-Za-z_#:]+", added[0])
    changed = [(b, a) for b, a in zip(before, after, strict=False) if b != a]
    return (
        len(before) == len(after)
        and bool(changed)
        and all(b.lower() == a.lower() and b.lower() in DYNAMODB_KEYWORDS for b, a in changed)
    )


# Every mutant of one line, when nothing reads what the line computes: (function, the line's start).
UNREAD_LINES: dict[tuple[str, str], Equivalent] = {}
UNREAD_LINES[("shared.accounts.invitations.accept_invitation", "session_id = ")] = Equivalent(
    "shared.accounts.invitations.accept_invitation",
    'session_id = grant.claims.sid if grant else ""',
    "(any mutant of the line)",
    "only the audit record on the next line reads `session_id`: log text",
)


def find(function: str, removed: tuple[str, ...], added: tuple[str, ...]) -> Equivalent | None:
    for entry in EQUIVALENTS:
        if (
            entry.function == function
            and entry.removed == "\n".join(removed)
            and entry.added == "\n".join(added)
        ):
            _used.add(entry)
            return entry
    for (where, start), entry in UNREAD_LINES.items():
        if function == where and len(removed) == 1 and removed[0].startswith(start):
            _used.add(entry)
            return entry
    if function.startswith("shared.store.") and _only_keyword_case(removed, added):
        return KEYWORD_CASE
    return None


def unused() -> list[Equivalent]:
    return [entry for entry in (*EQUIVALENTS, *UNREAD_LINES.values()) if entry not in _used]
