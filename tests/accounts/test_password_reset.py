"""Password reset over the API and the pages: the mail, one-use expiring links, revoked sessions."""

import re
import time

import pytest
from django.core import mail
from django.test import override_settings
from django.utils.http import urlsafe_base64_decode

from accounts.api import BAD_REFRESH
from accounts.models import AuditEvent, User
from accounts.services import RESET_LINK_INVALID, RESET_MAIL_SUBJECT
from accounts.views import PASSWORDS_DIFFER, RESET_DONE, RESET_SENT

pytestmark = pytest.mark.django_db

OLD = "correct-horse-battery-9"
NEW = "a-brand-new-passphrase-4"
LINK = re.compile(r"http://testserver/password/reset/confirm/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)")


@pytest.fixture
def ada(api):
    resp = api.post("/api/auth/register", {"email": "ada@example.com", "password": OLD}, format="json")
    assert resp.status_code == 201
    return User.objects.get(email="ada@example.com")


def ask_reset(api, email):
    return api.post("/api/auth/password/reset", {"email": email}, format="json")


def link_in_mail(index=0) -> dict:
    match = LINK.search(mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.groupdict()


def confirm(api, link, password=NEW):
    return api.post("/api/auth/password/reset/confirm", {**link, "new_password": password}, format="json")


def login(api, password):
    return api.post("/api/auth/login", {"email": "ada@example.com", "password": password}, format="json")


def test_reset_mails_a_link_that_sets_the_password_once(api, ada):
    resp = ask_reset(api, "ADA@example.com")
    assert resp.status_code == 204
    assert [(m.subject, m.to) for m in mail.outbox] == [(RESET_MAIL_SUBJECT, ["ada@example.com"])]
    link = link_in_mail()
    assert int(urlsafe_base64_decode(link["uid"])) == ada.pk

    assert confirm(api, link).status_code == 204
    assert login(api, OLD).status_code == 401
    assert login(api, NEW).status_code == 200

    again = confirm(api, link, password="yet-another-passphrase-5")
    assert again.status_code == 400
    assert again.data == {"token": [RESET_LINK_INVALID]}
    assert login(api, NEW).status_code == 200
    assert list(AuditEvent.objects.filter(target_id=str(ada.pk), action__startswith="user.password_reset")
                .order_by("id").values_list("action", "metadata")) == [
        ("user.password_reset_requested", {}), ("user.password_reset", {"sessions_revoked": 1})]


def test_unknown_email_gets_the_same_answer_and_no_mail(api, ada):
    unknown = ask_reset(api, "nobody@example.com")
    known = ask_reset(api, "ada@example.com")
    assert (unknown.status_code, unknown.content) == (204, b"")
    assert (known.status_code, known.content) == (204, b"")
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_inactive_account_gets_no_mail(api, ada):
    User.objects.filter(pk=ada.pk).update(is_active=False)
    assert ask_reset(api, "ada@example.com").status_code == 204
    assert mail.outbox == []


@override_settings(PASSWORD_RESET_TIMEOUT=1)
def test_expired_link_is_refused(api, ada):
    ask_reset(api, "ada@example.com")
    link = link_in_mail()
    time.sleep(2.2)  # the token generator counts whole seconds; more than PASSWORD_RESET_TIMEOUT have passed
    resp = confirm(api, link)
    assert resp.status_code == 400
    assert resp.data == {"token": [RESET_LINK_INVALID]}
    assert login(api, OLD).status_code == 200


def test_token_of_another_user_is_refused(api, ada):
    api.post("/api/auth/register", {"email": "bob@example.com", "password": OLD}, format="json")
    bob = User.objects.get(email="bob@example.com")
    ask_reset(api, "bob@example.com")
    bobs = link_in_mail()
    ask_reset(api, "ada@example.com")
    adas = link_in_mail(1)
    resp = confirm(api, {"uid": adas["uid"], "token": bobs["token"]})
    assert resp.status_code == 400
    assert resp.data == {"token": [RESET_LINK_INVALID]}
    garbage = confirm(api, {"uid": "!!", "token": bobs["token"]})
    assert garbage.data == {"token": [RESET_LINK_INVALID]}
    assert login(api, OLD).status_code == 200
    assert User.objects.get(pk=bob.pk).check_password(OLD)


def test_weak_password_is_refused_and_the_link_still_works(api, ada):
    ask_reset(api, "ada@example.com")
    link = link_in_mail()
    weak = confirm(api, link, password="123")
    assert weak.status_code == 400
    assert list(weak.data) == ["new_password"]
    assert confirm(api, link).status_code == 204


def test_reset_revokes_every_refresh_token(api, ada):
    first = login(api, OLD).data["refresh"]
    second = login(api, OLD).data["refresh"]
    ask_reset(api, "ada@example.com")
    assert confirm(api, link_in_mail()).status_code == 204
    for refresh in (first, second):
        resp = api.post("/api/auth/refresh", {"refresh": refresh}, format="json")
        assert resp.status_code == 401
        assert resp.json() == {"detail": BAD_REFRESH}
    fresh = login(api, NEW).data["refresh"]
    assert api.post("/api/auth/refresh", {"refresh": fresh}, format="json").status_code == 200


def test_reset_requests_are_throttled_per_ip(api):
    codes = [ask_reset(api, f"nobody{i}@example.com").status_code for i in range(11)]
    assert codes == [204] * 10 + [429]  # the auth rate, 10/minute per IP, as login and registration
    confirm_codes = api.post("/api/auth/password/reset/confirm", {"uid": "x", "token": "y", "new_password": NEW},
                             format="json").status_code
    assert confirm_codes == 429  # the same scope and address


def test_reset_pages(client, ada):
    login_page = client.get("/login/")
    assert b'href="/password/reset"' in login_page.content
    page = client.get("/password/reset")
    assert page.status_code == 200
    sent = client.post("/password/reset", {"email": "ada@example.com"})
    assert sent.status_code == 200
    assert RESET_SENT.encode() in sent.content
    unknown = client.post("/password/reset", {"email": "nobody@example.com"})
    assert unknown.status_code == 200
    assert RESET_SENT.encode() in unknown.content
    assert len(mail.outbox) == 1
    path = LINK.search(mail.outbox[0].body).group(0).removeprefix("http://testserver")

    assert client.get(path).status_code == 200
    differ = client.post(path, {"new_password": NEW, "new_password_again": NEW + "x"})
    assert differ.status_code == 400
    assert PASSWORDS_DIFFER.encode() in differ.content
    done = client.post(path, {"new_password": NEW, "new_password_again": NEW}, follow=True)
    assert done.redirect_chain == [("/login/", 302)]
    assert RESET_DONE.encode() in done.content
    used = client.get(path)
    assert used.status_code == 400
    assert RESET_LINK_INVALID.encode() in used.content
    assert User.objects.get(pk=ada.pk).check_password(NEW)
