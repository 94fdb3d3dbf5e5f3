"""Registration, JWT login, me, refresh rotation and logout, end to end over the API."""

import pytest

from accounts.api import BAD_CREDENTIALS, BAD_REFRESH
from accounts.models import AuditEvent, Membership, Organization, User
from accounts.services import EMAIL_TAKEN

pytestmark = pytest.mark.django_db

GOOD = "correct-horse-battery-9"


def register(api, email="ada@example.com", password=GOOD, **extra):
    return api.post("/api/auth/register", {"email": email, "password": password, **extra}, format="json")


def test_register_login_me_refresh_logout(api):
    resp = register(api, full_name="Ada Lovelace")
    assert resp.status_code == 201, resp.data
    assert resp.data["user"]["email"] == "ada@example.com"
    org_id = resp.data["organization"]["id"]
    user = User.objects.get(email="ada@example.com")
    assert list(Membership.objects.filter(user=user).values_list("organization_id", "role")) == [(org_id, "admin")]
    assert Organization.objects.get(pk=org_id).is_personal is True

    resp = api.post("/api/auth/login", {"email": "ADA@example.com", "password": GOOD}, format="json")
    assert resp.status_code == 200
    access, refresh = resp.data["access"], resp.data["refresh"]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api.get("/api/auth/me")
    assert me.status_code == 200
    assert me.data["email"] == "ada@example.com"
    assert me.data["full_name"] == "Ada Lovelace"
    assert [(o["organization"], o["role"]) for o in me.data["organizations"]] == [(org_id, "admin")]

    rotated = api.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert rotated.status_code == 200
    assert set(rotated.data) == {"access", "refresh"}
    assert rotated.data["refresh"] != refresh
    # The old refresh token was blacklisted by the rotation.
    again = api.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert again.status_code == 401
    assert again.data["detail"] == BAD_REFRESH

    new_refresh = rotated.data["refresh"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated.data['access']}")
    out = api.post("/api/auth/logout", {"refresh": new_refresh}, format="json")
    assert out.status_code == 205
    after = api.post("/api/auth/refresh", {"refresh": new_refresh}, format="json")
    assert after.status_code == 401
    assert after.data["detail"] == BAD_REFRESH
    assert AuditEvent.objects.filter(actor=user, action="user.registered").count() == 1


def test_profile_update_and_password_change(api):
    register(api)
    token = api.post("/api/auth/login", {"email": "ada@example.com", "password": GOOD}, format="json").data["access"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    resp = api.put("/api/auth/profile", {"full_name": "Countess"}, format="json")
    assert resp.status_code == 200
    assert resp.data["full_name"] == "Countess"
    assert User.objects.get(email="ada@example.com").full_name == "Countess"

    wrong = api.post("/api/auth/password", {"current_password": "nope", "new_password": "another-long-pass-7"}, format="json")
    assert wrong.status_code == 400
    assert wrong.data == {"current_password": ["The current password is wrong."]}
    ok = api.post("/api/auth/password", {"current_password": GOOD, "new_password": "another-long-pass-7"}, format="json")
    assert ok.status_code == 204
    api.credentials()
    assert api.post("/api/auth/login", {"email": "ada@example.com", "password": GOOD}, format="json").status_code == 401
    assert api.post("/api/auth/login", {"email": "ada@example.com", "password": "another-long-pass-7"}, format="json").status_code == 200


def test_duplicate_email_is_400_naming_the_field(api):
    assert register(api).status_code == 201
    resp = register(api, email="Ada@Example.com")
    assert resp.status_code == 400
    assert resp.data == {"email": [EMAIL_TAKEN]}
    assert User.objects.count() == 1


def test_weak_password_is_400(api):
    resp = register(api, password="12345678")
    assert resp.status_code == 400
    assert "password" in resp.data
    assert "This password is too common." in resp.data["password"][0]
    assert "This password is entirely numeric." in resp.data["password"][0]
    assert User.objects.count() == 0


def test_missing_fields_are_400_per_field(api):
    resp = api.post("/api/auth/register", {}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"email": ["This field is required."], "password": ["This field is required."]}
    resp = api.post("/api/auth/login", {"email": "not-an-email"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"email": ["Enter a valid email address."], "password": ["This field is required."]}


def test_malformed_and_expired_jwt_are_401(api, settings):
    register(api)
    api.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    resp = api.get("/api/auth/me")
    assert resp.status_code == 401
    assert resp.data["code"] == "token_not_valid"

    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(User.objects.get())
    token.set_exp(lifetime=-timedelta(seconds=1))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    resp = api.get("/api/auth/me")
    assert resp.status_code == 401
    assert resp.data["code"] == "token_not_valid"

    api.credentials()
    assert api.get("/api/auth/me").status_code == 401


def test_wrong_password_is_401_then_throttled_429(api, settings):
    from accounts.services import user_register

    settings.LOGIN_LOCKOUT_FAILURES = settings.LOGIN_LOCKOUT_ACCOUNT_FAILURES = 100  # the throttle alone (lockout: test_lockout)

    user_register(email="ada@example.com", password=GOOD)
    statuses = [
        api.post("/api/auth/login", {"email": "ada@example.com", "password": "wrong"}, format="json").status_code
        for _ in range(10)
    ]
    assert statuses == [401] * 10  # the default rate is 10/minute per IP
    resp = api.post("/api/auth/login", {"email": "ada@example.com", "password": "wrong"}, format="json")
    assert resp.status_code == 429
    assert resp.data["detail"].startswith("Request was throttled.")
    first = api.post("/api/auth/login", {"email": "ada@example.com", "password": GOOD}, format="json")
    assert first.status_code == 429  # the IP is throttled whatever the password


def test_bad_credentials_message(api):
    register(api)
    resp = api.post("/api/auth/login", {"email": "ada@example.com", "password": "wrong"}, format="json")
    assert resp.status_code == 401
    assert resp.data["detail"] == BAD_CREDENTIALS


def test_logout_with_someone_elses_refresh_is_400(api):
    register(api, email="a@example.com")
    register(api, email="b@example.com")
    a = api.post("/api/auth/login", {"email": "a@example.com", "password": GOOD}, format="json").data
    b = api.post("/api/auth/login", {"email": "b@example.com", "password": GOOD}, format="json").data
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {a['access']}")
    resp = api.post("/api/auth/logout", {"refresh": b["refresh"]}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"refresh": ["This refresh token belongs to another user."]}
