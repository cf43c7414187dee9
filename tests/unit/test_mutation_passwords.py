"""The password policy, rule by rule (issue 30, rule 4): its bounds to the character, the email in
any case, the forms of a common password looked up (decorated, swapped, repeated: the repetition
rule shown with a unit whose repetition is not itself listed), and the hash checks."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from shared.core.errors import BadRequest
from shared.credentials import breached_passwords, passwords
from shared.credentials.breached_passwords import common_passwords, forms, is_common
from shared.credentials.password_context import context_names, is_built_from
from shared.credentials.passwords import check_password_policy

FIELD = "new_password"
GOOD = "plum orbit caravan"  # long enough, no name, not common


def refusal(password: str, email: str = "", name: str = "") -> str:
    with pytest.raises(BadRequest) as refused:
        check_password_policy(password, FIELD, email, name=name)
    assert refused.value.field == FIELD
    return refused.value.message


def test_the_length_bounds_to_the_character_never_truncated() -> None:
    assert "at least 12" in refusal("plum orbit1")  # 11
    check_password_policy("plum orbit12", FIELD)  # 12
    longest = ("plum orbit caravan " * 7)[:128]
    check_password_policy(longest, FIELD)
    assert "at most 128" in refusal(longest + "x")


@pytest.mark.parametrize("typed", ["sam.vale@example.com", "SAM.VALE@example.com", "  Sam.Vale@Example.com "])
def test_the_email_itself_is_refused_in_any_case_and_padding(typed: str) -> None:
    assert refusal(typed, email="Sam.Vale@example.com") == "new_password must not be your email address"


def test_the_email_rule_needs_an_email() -> None:
    check_password_policy("xq7 plum orbit caravan", FIELD, "")


@pytest.mark.parametrize("unit", ["goat", "demo", "star", "trek"])
def test_a_listed_word_repeated_is_refused_though_its_repetition_is_not_listed(unit: str) -> None:
    listed = common_passwords()
    assert unit in listed
    for times in (3, 4):
        password = unit * times
        assert password not in listed and len(password) >= 12
        assert "too common" in refusal(password)
        assert "too common" in refusal(password.capitalize() + "!")


def test_a_repetition_of_an_unlisted_unit_is_accepted() -> None:
    check_password_policy("zq7vxq zq7vxq", FIELD)
    assert not is_common("zq7vxqzq7vxq")


@pytest.mark.parametrize(
    "password",
    ["123dragon!!!", "!!!!dragon2024", "dragon1234567", "DRAGON_______", "  dragon  123 ", "Dr@g0n123456"],
)
def test_a_listed_word_decorated_at_either_end_or_swapped_is_refused(password: str) -> None:
    assert "dragon" in common_passwords()
    assert "too common" in refusal(password)


def test_digits_and_symbols_alone_are_judged_by_their_listed_prefixes() -> None:
    assert "too common" in refusal("123456!!!!!!")
    assert "" not in forms("!!!!!!!!!!!!")


@pytest.mark.parametrize("password", ["drag0nfly plum", "plum dragon orbit", "x dragon caravan 7"])
def test_a_listed_word_inside_other_words_is_accepted(password: str) -> None:
    check_password_policy(password, FIELD)


def test_the_forms_of_a_password() -> None:
    assert {"p@ssw0rd1!", "p@ssw0rd1", "p@ssw0rd", "password", "passwordi", "passwordl"} <= forms(
        "P@ssw0rd1!"
    )
    assert forms("abcabc") == {"abcabc", "abc"} and forms("abcab!") == {"abcab!", "abcab"}
    assert forms("!!ab12") >= {"ab12", "ab1", "ab", "!!ab12"}
    assert "a" in forms("aaaa") and "ab" not in forms("abab a")


def test_the_repeated_unit_is_the_shortest() -> None:
    unit = breached_passwords._repeated_unit
    assert unit("abababab") == "ab" and unit("aaaa") == "a" and unit("abcabc") == "abc"
    assert unit("abcab") == "abcab" and unit("ab") == "ab" and unit("a") == "a"
    assert unit("abcabcabc") == "abc" and unit("xyxyx") == "xyxyx"


def test_the_undecorated_forms() -> None:
    undecorated = breached_passwords._undecorated
    assert undecorated("!!ab12") == {"!!ab12", "ab", "ab1", "ab12", "!!ab", "!!ab1"}
    assert undecorated("ab") == {"ab"}
    assert undecorated("12") == {"", "1", "12"}


def test_unicode_forms_are_folded() -> None:
    assert is_common(
        "\uff24\uff32\uff21\uff27\uff2f\uff2e\uff11\uff12\uff13"
    )  # fullwidth: NFKC folds it to dragon123
    assert forms("STRASSE") == forms("straße") == {"strasse"}  # casefold, not lower


def test_names_taken_out_longest_first_and_at_least_three_characters() -> None:
    names = context_names(["Northwind Motors"], "Jo Ann Lee", "jo.x@ab.example")
    assert names[0] == "northwindmotors" and "northwind" in names and "motors" in names
    assert "jo" not in names and "ab" not in names and "x" not in names
    assert "ann" in names and "lee" in names and "joannlee" in names and "example" in names
    assert names == sorted(names, key=lambda piece: (-len(piece), piece))


def test_the_names_of_an_email_are_its_local_part_and_each_domain_label() -> None:
    assert context_names([], "", "sam.vale@north-wind.example.com") == [
        "northwind",
        "example",
        "samvale",
        "north",
        "vale",
        "wind",
        "com",
        "sam",
    ]
    # split at the first "@": what follows it is the domain, whatever it holds
    assert context_names([], "", "ab@cd@north.example") == ["cdnorth", "example", "north"]


def test_without_an_email_or_a_name_only_the_services_names_count() -> None:
    check_password_policy("xxxx-2024-xxxx-7", FIELD)
    check_password_policy("xxxx-2024-xxxx-7", FIELD, "", None, name="")
    assert "built from" in refusal("xxxx-2024-xxxx-7", email="xxxx@xxxx.example")
    assert "built from" in refusal("xxxx-2024-xxxx-7", name="Xxxx")


def test_built_from_names_needs_letters_left_out() -> None:
    names = ["dealership"]
    assert is_built_from("Dealership-2024!", names)
    assert is_built_from("d3al3rsh1p#2025", names)
    assert is_built_from("dea1ership 99", ["dealership"])  # 1 -> l
    assert not is_built_from("dealership plum", names)
    assert not is_built_from("2024!!!!", names)  # nothing taken out: not built from a name
    assert not is_built_from("plum", [])


def test_the_policy_refuses_a_password_built_from_the_users_name() -> None:
    assert "built from" in refusal("Averyavery2024", email="a@b.example", name="Avery Quill")


def test_a_password_verifies_only_against_its_own_hash() -> None:
    stored = passwords.hash_password(GOOD)
    assert passwords.verify_password(stored, GOOD)
    assert not passwords.verify_password(stored, GOOD + "x")
    assert not passwords.verify_password("not a hash", GOOD)
    assert not passwords.verify_password("$argon2id$v=19$m=8,t=1,p=1$broken", GOOD)


def test_a_weaker_or_unreadable_hash_needs_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(GOOD)
    assert passwords.needs_rehash(weak)
    assert passwords.needs_rehash("not a hash")
    assert not passwords.needs_rehash(passwords.hasher.hash(GOOD))


def test_the_breach_check_is_asked_only_when_settings_turn_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    asked: list[str] = []
    monkeypatch.setattr(breached_passwords, "pwned", lambda password, _s: asked.append(password) or True)
    breached_passwords.check_not_breached(GOOD, FIELD, None)
    breached_passwords.check_not_breached(GOOD, FIELD, SimpleNamespace(pwned_passwords="off"))  # type: ignore[arg-type]
    assert asked == []
    with pytest.raises(BadRequest) as refused:
        breached_passwords.check_not_breached(GOOD, FIELD, SimpleNamespace(pwned_passwords="fail-open"))  # type: ignore[arg-type]
    assert asked == [GOOD] and refused.value.field == FIELD and "breaches" in refused.value.message
