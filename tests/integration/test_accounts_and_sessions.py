"""Device-aware sessions, logout everywhere, password change and the operator's actions."""

from __future__ import annotations

import jwt
import pytest

from shared.accounts import actions as accounts_module
from shared.core.errors import NotFound
from shared.runtime.services import Services
from tests.events import body_of
from tests.fixtures import Accounts
from tests.flows import (
    admin_login,
    change_password,
    is_authorized,
    login,
    logout_all,
    refresh,
    session_delete,
    sessions_list,
    staff_login,
)

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


def _sid(access_token: str) -> str:
    return str(jwt.decode(access_token, options={"verify_signature": False})["sid"])


def test_sessions_list_shows_each_device_and_marks_the_current_one(accounts: Accounts) -> None:
    laptop = staff_login(
        user_agent=CHROME_MAC,
        source_ip="198.51.100.7",
    )
    staff_login(user_agent=FIREFOX_LINUX)
    admin_login()
    listed = body_of(sessions_list(laptop["access_token"]))["sessions"]
    assert len(listed) == 2
    current = [s for s in listed if s["current"]]
    assert len(current) == 1 and current[0]["id"] == _sid(laptop["access_token"])
    assert current[0]["browser"] == "Chrome" and current[0]["os"] == "Mac OS X"
    assert current[0]["source_ip"] == "198.51.100.7"
    assert {s["browser"] for s in listed} == {"Chrome", "Firefox"}


def test_deleting_an_own_session_ends_its_refresh_and_access_tokens(accounts: Accounts) -> None:
    laptop = staff_login()
    phone = staff_login()
    response = session_delete(laptop["access_token"], _sid(phone["access_token"]))
    assert response["statusCode"] == 200
    assert not is_authorized(phone["access_token"])
    assert refresh(phone["refresh_token"])["statusCode"] == 401
    assert is_authorized(laptop["access_token"])


def test_deleting_someone_elses_session_is_not_found_and_changes_nothing(accounts: Accounts) -> None:
    staff = staff_login()
    admin = admin_login()
    assert session_delete(staff["access_token"], _sid(admin["access_token"]))["statusCode"] == 404
    assert session_delete(staff["access_token"], "no-such-session")["statusCode"] == 404
    assert is_authorized(admin["access_token"])
    assert refresh(admin["refresh_token"])["statusCode"] == 200


def test_logout_all_revokes_every_session_and_access_token_of_the_caller_only(accounts: Accounts) -> None:
    laptop = staff_login()
    phone = staff_login()
    admin = admin_login()
    assert logout_all(laptop["access_token"])["statusCode"] == 200
    for tokens in (laptop, phone):
        assert not is_authorized(tokens["access_token"])
        assert refresh(tokens["refresh_token"])["statusCode"] == 401
    assert is_authorized(admin["access_token"])
    again = staff_login()
    assert is_authorized(again["access_token"])


def test_password_change_answers_with_a_fresh_session_and_ends_every_older_one(
    accounts: Accounts,
) -> None:
    laptop = staff_login()
    phone = staff_login()
    new_password = "violet kettle across 9 moons"
    response = change_password(laptop["access_token"], accounts.password, new_password)
    assert response["statusCode"] == 200, response
    fresh = body_of(response)
    assert fresh["token_type"] == "Bearer" and is_authorized(fresh["access_token"])
    assert (
        jwt.decode(fresh["access_token"], options={"verify_signature": False})["sid"]
        != jwt.decode(laptop["access_token"], options={"verify_signature": False})["sid"]
    )
    for old in (laptop, phone):
        assert not is_authorized(old["access_token"])
        assert refresh(old["refresh_token"])["statusCode"] == 401
    renewed = refresh(fresh["refresh_token"])
    assert renewed["statusCode"] == 200
    assert is_authorized(body_of(renewed)["access_token"])
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 401
    assert login("staff@dealership.example", new_password, "staff")["statusCode"] == 200


def test_password_change_with_a_wrong_current_password_is_400_and_changes_nothing(accounts: Accounts) -> None:
    tokens = staff_login()
    response = change_password(tokens["access_token"], "not my password", "violet kettle across 9 moons")
    assert response["statusCode"] == 400
    assert body_of(response)["field"] == "current_password"
    assert is_authorized(tokens["access_token"])
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 200


def test_password_policy_refuses_short_long_and_common_passwords_without_truncating(
    accounts: Accounts,
) -> None:
    tokens = staff_login()
    for bad in ("short pass", "x" * 129, "Password1234", "staff@dealership.example"):
        response = change_password(tokens["access_token"], accounts.password, bad)
        assert response["statusCode"] == 400, bad
        assert body_of(response)["field"] == "new_password"
    assert is_authorized(tokens["access_token"])
    exactly_128 = "a quiet river " * 9 + "ab"
    assert len(exactly_128) == 128
    assert change_password(tokens["access_token"], accounts.password, exactly_128)["statusCode"] == 200
    assert login("staff@dealership.example", exactly_128, "staff")["statusCode"] == 200
    assert login("staff@dealership.example", exactly_128[:-1], "staff")["statusCode"] == 401


def test_role_change_ends_the_sessions_of_the_old_role_and_the_next_login_has_the_new_one(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    accounts_module.change_role(services, accounts.staff, "manager")
    assert not is_authorized(tokens["access_token"])
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    renewed = staff_login()
    claims = jwt.decode(renewed["access_token"], options={"verify_signature": False})
    assert claims["role"] == "manager"
    assert is_authorized(renewed["access_token"])


def test_disabling_a_user_revokes_sessions_and_tokens_and_blocks_login(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    accounts_module.disable_user(services, accounts.staff)
    assert not is_authorized(tokens["access_token"])
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 401
    accounts_module.enable_user(
        services, accounts_module.find_user(services, "staff@dealership.example", "staff")
    )
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 200


def test_enabling_a_user_that_changed_since_it_was_read_enables_the_current_account(
    services: Services, accounts: Accounts
) -> None:
    accounts_module.disable_user(services, accounts.staff)
    read_by_the_operator = accounts_module.find_user(services, "staff@dealership.example", "staff")
    accounts_module.reset_password(services, read_by_the_operator, "a brand new passphrase 7")
    accounts_module.enable_user(services, read_by_the_operator)
    assert login("staff@dealership.example", "a brand new passphrase 7", "staff")["statusCode"] == 200


def test_enabling_a_user_deleted_since_it_was_read_is_not_found_and_creates_nothing(
    services: Services, accounts: Accounts
) -> None:
    read_by_the_operator = accounts_module.find_user(services, "staff@dealership.example", "staff")
    accounts_module.delete_user(services, read_by_the_operator)
    with pytest.raises(NotFound):
        accounts_module.enable_user(services, read_by_the_operator)
    assert services.users.get("staff", "staff@dealership.example") is None


def test_global_revocation_denies_every_users_tokens_and_sessions(
    services: Services, accounts: Accounts
) -> None:
    staff = staff_login()
    admin = admin_login()
    accounts_module.revoke_all_tokens_of_everyone(services)
    for tokens in (staff, admin):
        assert not is_authorized(tokens["access_token"])
        assert refresh(tokens["refresh_token"])["statusCode"] == 401
    fresh = admin_login()
    assert is_authorized(fresh["access_token"])


def test_common_password_list_ships_with_the_package() -> None:
    from shared.credentials.breached_passwords import common_passwords

    assert "password1234" in common_passwords()
    assert len(common_passwords()) > 10_000
