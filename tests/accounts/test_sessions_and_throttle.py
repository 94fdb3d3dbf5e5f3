"""Refresh tokens revoked on a password change and by "log out everywhere"; the auth throttle keyed
on the socket's address unless the request comes through a trusted proxy."""

import pytest

from accounts.api import BAD_REFRESH
from accounts.models import AuditEvent, User
from accounts.services import user_register, user_sessions_revoke

pytestmark = pytest.mark.django_db

GOOD = "correct-horse-battery-9"
NEW = "another-long-pass-7"


def login(api, password=GOOD, **extra) -> dict:
    resp = api.post("/api/auth/login", {"email": "ada@example.com", "password": password}, format="json", **extra)
    assert resp.status_code == 200, resp.data
    return resp.data


def refresh(api, token):
    return api.post("/api/auth/refresh", {"refresh": token}, format="json")


def test_a_password_change_revokes_every_refresh_token(api):
    user_register(email="ada@example.com", password=GOOD)
    laptop, phone = login(api), login(api)
    rotated = refresh(api, phone["refresh"]).data["refresh"]  # a token minted by rotation is revoked too
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    resp = api.post("/api/auth/password", {"current_password": GOOD, "new_password": NEW}, format="json")
    assert resp.status_code == 204
    api.credentials()
    for token in (laptop["refresh"], rotated):
        resp = refresh(api, token)
        assert resp.status_code == 401
        assert resp.data["detail"] == BAD_REFRESH
    assert refresh(api, login(api, password=NEW)["refresh"]).status_code == 200


def test_log_out_everywhere_revokes_only_the_callers_tokens(api):
    user_register(email="ada@example.com", password=GOOD)
    user_register(email="bob@example.com", password=GOOD)
    first, second = login(api), login(api)
    bob = api.post("/api/auth/login", {"email": "bob@example.com", "password": GOOD}, format="json").data
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    resp = api.post("/api/auth/logout-everywhere")
    assert resp.status_code == 200
    assert resp.data == {"revoked": 2}
    assert AuditEvent.objects.get(action="user.logged_out_everywhere").metadata == {"refresh_tokens": 2}
    api.credentials()
    assert refresh(api, first["refresh"]).status_code == 401
    assert refresh(api, second["refresh"]).status_code == 401
    assert refresh(api, bob["refresh"]).status_code == 200
    assert user_sessions_revoke(user=User.objects.get(email="ada@example.com")) == 0  # nothing left to revoke


def test_log_out_everywhere_needs_a_login(api):
    assert api.post("/api/auth/logout-everywhere").status_code == 401


def test_a_refresh_token_of_a_deleted_user_is_401(api):
    user_register(email="ada@example.com", password=GOOD)
    tokens = login(api)
    User.objects.filter(email="ada@example.com").delete()
    resp = refresh(api, tokens["refresh"])
    assert resp.status_code == 401
    assert resp.data["detail"] == BAD_REFRESH


def _wrong_logins(api, count, **extra) -> list[int]:
    return [api.post("/api/auth/login", {"email": "ada@example.com", "password": "wrong"}, format="json",
                     **extra).status_code for _ in range(count)]


@pytest.fixture
def no_lockout(settings):
    """The throttle alone: the lockout (tests/accounts/test_lockout.py) would answer first."""
    settings.LOGIN_LOCKOUT_FAILURES = settings.LOGIN_LOCKOUT_ACCOUNT_FAILURES = 100


def test_a_forged_x_forwarded_for_does_not_reset_the_throttle(api, no_lockout):
    user_register(email="ada@example.com", password=GOOD)
    assert _wrong_logins(api, 10) == [401] * 10
    forged = [api.post("/api/auth/login", {"email": "ada@example.com", "password": "wrong"}, format="json",
                       HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(25)]
    assert forged == [429] * 25


def test_behind_a_trusted_proxy_the_throttle_keys_on_the_forwarded_client(api, settings, no_lockout):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    user_register(email="ada@example.com", password=GOOD)
    proxy = {"REMOTE_ADDR": "10.1.2.3"}
    # The client's own (forged) hop is on the left; the proxy appends the address it saw.
    alice = {**proxy, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.7"}
    assert _wrong_logins(api, 10, **alice) == [401] * 10
    assert _wrong_logins(api, 1, **{**proxy, "HTTP_X_FORWARDED_FOR": "5.6.7.8, 203.0.113.7"}) == [429]
    assert _wrong_logins(api, 1, **{**proxy, "HTTP_X_FORWARDED_FOR": "203.0.113.8"}) == [401]
    # A request that does not come from the proxy is keyed on its own address, whatever it claims.
    assert _wrong_logins(api, 1, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.8") == [401]
