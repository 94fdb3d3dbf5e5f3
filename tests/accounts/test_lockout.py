"""The login lockout: an address is locked out of one account after LOGIN_LOCKOUT_FAILURES failed
logins (the owner elsewhere is not), the whole account after LOGIN_LOCKOUT_ACCOUNT_FAILURES except for
addresses it logged in from; a lock ends after its cool-down, a success clears the count, each lock
is audited, and neither a forged X-Forwarded-For nor an unknown email changes any of it."""

import time

import pytest

from accounts.api import BAD_CREDENTIALS
from accounts.lockout import LOCKED_OUT
from accounts.models import AuditEvent, User
from accounts.services import user_register

pytestmark = pytest.mark.django_db

GOOD = "correct-horse-battery-9"
EMAIL = "ada@example.com"
ATTACKER, OWNER, OTHER = "203.0.113.66", "198.51.100.7", "192.0.2.44"
LOCKED = LOCKED_OUT.format(seconds=900)


def login(api, password="wrong", *, email=EMAIL, address=ATTACKER, **extra):
    return api.post("/api/auth/login", {"email": email, "password": password}, format="json",
                    REMOTE_ADDR=address, **extra)


def statuses(api, count, **kwargs) -> list[int]:
    return [login(api, **kwargs).status_code for _ in range(count)]


def lock_events() -> list[tuple]:
    return list(AuditEvent.objects.filter(action="user.login_locked").order_by("id").values_list(
        "actor", "organization", "target_type", "target_id", "metadata"))


@pytest.fixture
def ada():
    return user_register(email=EMAIL, password=GOOD)


def test_the_fifth_failure_locks_that_address_out_even_with_the_right_password(api, ada):
    assert statuses(api, 4) == [401] * 4
    resp = login(api)
    assert (resp.status_code, resp.data, resp["Retry-After"]) == (429, {"detail": LOCKED}, "900")
    resp = login(api, GOOD)  # the password is not even checked
    assert (resp.status_code, resp.data["detail"]) == (429, LOCKED)
    assert lock_events() == [(None, None, "accounts.user", str(ada.id), {
        "email": EMAIL, "address": ATTACKER, "scope": "address", "failures": 5, "seconds": 900})]
    # the owner, from anywhere else, still logs in
    assert login(api, GOOD, address=OWNER).status_code == 200


def test_a_forged_x_forwarded_for_neither_resets_nor_escapes_the_lock(api, ada):
    forged = [login(api, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(6)]
    assert forged == [401, 401, 401, 401, 429, 429]
    assert login(api, GOOD, HTTP_X_FORWARDED_FOR=OWNER).status_code == 429


def test_the_lock_ends_after_its_cool_down(api, ada, monkeypatch):
    assert statuses(api, 5) == [401] * 4 + [429]
    later = time.time() + 899
    monkeypatch.setattr(time, "time", lambda: later)
    resp = login(api, GOOD)
    assert (resp.status_code, resp.data["detail"], resp["Retry-After"]) == (429, LOCKED_OUT.format(seconds=1), "1")
    monkeypatch.setattr(time, "time", lambda: later + 2)
    assert login(api, GOOD).status_code == 200
    assert statuses(api, 5) == [401] * 4 + [429]  # a fresh count of five after the lock


def test_a_success_clears_the_count(api, ada):
    assert statuses(api, 4) == [401] * 4
    assert login(api, GOOD).status_code == 200
    assert statuses(api, 4) == [401] * 4
    assert login(api, GOOD).status_code == 200
    assert lock_events() == []


def test_failures_further_apart_than_the_window_do_not_add_up(api, ada, monkeypatch):
    now = time.time()
    for n in range(8):
        monkeypatch.setattr(time, "time", lambda n=n: now + n * 901)
        assert login(api).status_code == 401
    assert lock_events() == []


def test_an_unknown_email_is_answered_exactly_like_a_real_one(api, ada):
    real = [(r.status_code, r.data) for r in (login(api) for _ in range(5))]
    ghost = [(r.status_code, r.data) for r in (login(api, email="ghost@example.com", address=OTHER) for _ in range(5))]
    assert real == ghost == [(401, {"detail": BAD_CREDENTIALS})] * 4 + [(429, {"detail": LOCKED})]
    assert lock_events()[1] == (None, None, "accounts.user", "", {
        "email": "ghost@example.com", "address": OTHER, "scope": "address", "failures": 5, "seconds": 900})


def test_ipv6_addresses_of_one_slash_64_share_a_count(api, ada):
    answers = [login(api, address=f"2001:db8:1:2::{n:x}").status_code for n in range(1, 6)]
    assert answers == [401] * 4 + [429]
    assert login(api, GOOD, address="2001:db8:1:3::1").status_code == 200  # the next /64 is someone else


def test_guessing_spread_over_addresses_locks_the_account_except_where_the_owner_logged_in(api, ada, settings):
    settings.LOGIN_LOCKOUT_ACCOUNT_FAILURES = 12
    assert login(api, GOOD, address=OWNER).status_code == 200  # the owner's usual address, known from now on
    spread = [login(api, address=f"203.0.113.{n // 4}").status_code for n in range(12)]
    assert spread == [401] * 11 + [429]  # three addresses, four failures each: the twelfth locks the account
    resp = login(api, GOOD, address=OTHER)  # a new address, even with the right password
    assert (resp.status_code, resp.data["detail"]) == (429, LOCKED)
    assert login(api, GOOD, address=OWNER).status_code == 200
    assert [event[4]["scope"] for event in lock_events()] == ["account"]
    assert lock_events()[0][4] == {"email": EMAIL, "address": "203.0.113.2", "scope": "account", "failures": 12,
                                   "seconds": 900}


def test_the_login_page_says_the_address_is_locked_out(client, ada):
    for _ in range(4):
        page = client.post("/login/", {"username": EMAIL, "password": "wrong"})
        assert b"Please enter a correct email address and password" in page.content
    page = client.post("/login/", {"username": EMAIL, "password": "wrong"})
    assert page.status_code == 200
    assert LOCKED.encode() in page.content
    page = client.post("/login/", {"username": EMAIL, "password": GOOD})
    assert page.status_code == 200 and LOCKED.encode() in page.content
    assert User.objects.get(email=EMAIL).last_login is None


def test_the_admin_login_is_locked_out_too(client, ada):
    ada.is_staff = ada.is_superuser = True
    ada.save()
    for _ in range(5):
        client.post("/admin/login/", {"username": EMAIL, "password": "wrong"})
    page = client.post("/admin/login/", {"username": EMAIL, "password": GOOD})
    assert page.status_code == 200 and LOCKED.encode() in page.content
    assert client.get("/admin/").status_code == 302  # still not logged in
