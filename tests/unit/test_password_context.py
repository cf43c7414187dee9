"""Issue 23, finding 7: a new password built from the service's own names (the context words: company
and product names, PASSWORD_CONTEXT_WORDS), or from the user's name or the parts of their email, is
refused, whatever its case and however it is decorated with digits and punctuation, wherever a
password is set (all of them call the one policy function)."""

from __future__ import annotations

import dataclasses

import pytest

from shared.config.settings import get_settings
from shared.config.tunables import BY_FIELD
from shared.core.errors import BadRequest
from shared.credentials.passwords import check_password_policy

EMAIL = "sam.staff1980@northwind-motors.example"
NAME = "Samantha Staffordshire"
REFUSAL = "must not be built from"


def refused(password: str, **context: object) -> BadRequest:
    with pytest.raises(BadRequest) as error:
        check_password_policy(password, "new_password", EMAIL, get_settings(), name=NAME, **context)  # type: ignore[arg-type]
    assert error.value.field == "new_password"
    return error.value


@pytest.mark.parametrize(
    "password",
    ["Dealership2024!", "DEALERSHIP!!!!", "dealershipdealership", "d3al3rsh1p#2025", "2024-Dealership-2024"],
)
def test_23_7_a_password_built_from_the_services_own_names_is_refused(password: str) -> None:
    assert REFUSAL in refused(password).message


@pytest.mark.parametrize(
    "password",
    [
        "Samantha1234!",
        "Staffordshire99",
        "SamanthaStaffordshire",
        "sam.staff1980!!",
        "Northwind-Motors-1",
        "northwindmotors2025",
        "samstaff1980@northwind",
    ],
)
def test_23_7_a_password_built_from_the_users_name_or_email_is_refused(password: str) -> None:
    assert REFUSAL in refused(password).message


@pytest.mark.parametrize(
    "password",
    ["dealership plum orbit caravan", "Samantha rows the amber lighthouse", "plum orbit caravan 42"],
)
def test_23_7_a_passphrase_that_only_mentions_a_name_is_accepted(password: str) -> None:
    check_password_policy(password, "new_password", EMAIL, get_settings(), name=NAME)


def test_23_7_the_context_words_are_a_setting_with_a_sensible_default() -> None:
    assert "dealership" in BY_FIELD["password_context_words"].default
    settings = dataclasses.replace(get_settings(), password_context_words=("Contoso", "RoadRunner"))
    check_password_policy("Dealership2024!", "new_password", "a@b.example", settings, name="A")
    for password in ("Contoso2024!!!", "roadrunner-2025", "ContosoRoadRunner"):
        with pytest.raises(BadRequest) as error:
            check_password_policy(password, "new_password", "a@b.example", settings, name="A")
        assert REFUSAL in error.value.message
