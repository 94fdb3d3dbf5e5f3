"""Invitations over the API and the pages: a mailed single-use link that works before the person has an
account, expiry, withdrawal, and another organization's invitations (404)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import services
from accounts.models import AuditEvent, Invitation, Membership, Organization, User
from accounts.views import JOINED
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/invite/(?P<token>[A-Za-z0-9_-]+)")


@pytest.fixture
def admin(org, make_member):
    return make_member("admin", org, email="boss@example.com", full_name="Grace Boss")


@pytest.fixture
def invite(client_for, django_capture_on_commit_callbacks):
    """Invite over the API; the mail leaves after the invitation commits, so run those callbacks."""
    def send(admin, org, email="newbie@example.com", role="reviewer"):
        with django_capture_on_commit_callbacks(execute=True):
            return client_for(admin).post(f"/api/organizations/{org.pk}/invitations",
                                          {"email": email, "role": role}, format="json")
    return send


def token_in_mail(index: int = -1) -> str:
    match = LINK.search(mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match["token"]


def test_an_invitation_mails_a_link_that_signs_up_and_joins_once(invite, client_for, admin, org, client):
    resp = invite(admin, org)

    assert resp.status_code == 201
    assert (resp.data["email"], resp.data["role"], resp.data["status"], resp.data["invited_by"]) == (
        "newbie@example.com", "reviewer", "pending", "boss@example.com")
    assert [(m.subject, m.to) for m in mail.outbox] == [
        (services.INVITATION_SUBJECT.format(organization=org.name), ["newbie@example.com"])]
    token = token_in_mail()
    assert resp.data["link"] == f"http://testserver/invite/{token}"
    assert Invitation.objects.get().token_hash != token  # only a hash is kept

    page = client.get(f"/invite/{token}")
    assert page.status_code == 200
    assert f"Join {org.name}" in page.content.decode()
    joined = client.post(f"/invite/{token}", {"password": "a-new-passphrase-7", "full_name": "New Bie"})

    assert (joined.status_code, joined["Location"]) == (302, "/")
    user = User.objects.get(email="newbie@example.com")
    assert [(m.organization_id, m.role) for m in Membership.objects.filter(user=user)] == [(org.pk, "reviewer")]
    assert not Organization.objects.filter(created_by=user).exists()  # no personal workspace: they joined a team
    follow = client.get("/")
    assert JOINED.format(organization=org.name, role="reviewer") in follow.content.decode()

    client.logout()
    again = client.get(f"/invite/{token}")  # the link was used
    assert again.status_code == 410
    assert services.INVITATION_USED in again.content.decode()
    reused = client.post(f"/invite/{token}", {"password": "another-passphrase-8"})
    assert reused.status_code == 410
    api_again = client_for(user).post("/api/invitations/accept", {"token": token}, format="json")
    assert (api_again.status_code, api_again.data) == (410, {"detail": services.INVITATION_USED})
    invitation = Invitation.objects.get()
    assert (invitation.accepted_by_id, invitation.status_at(timezone.now())) == (user.pk, "accepted")
    assert list(AuditEvent.objects.filter(action__startswith="invitation.").values_list("action", flat=True)
                .order_by("id")) == ["invitation.created", "invitation.accepted"]


def test_an_existing_account_accepts_over_the_api_with_its_own_address_only(invite, client_for, admin, org, make_member):
    invited = make_member("viewer", email="known@example.com")
    stranger = make_member("viewer", email="someone-else@example.com")
    invite(admin, org, email="Known@Example.com", role="labeler")
    token = token_in_mail()

    wrong = client_for(stranger).post("/api/invitations/accept", {"token": token}, format="json")
    right = client_for(invited).post("/api/invitations/accept", {"token": token}, format="json")

    assert (wrong.status_code, wrong.data) == (
        403, {"detail": services.INVITATION_OTHER_EMAIL.format(email="known@example.com")})
    assert right.status_code == 200
    assert (right.data["email"], right.data["role"]) == ("known@example.com", "labeler")
    assert Membership.objects.get(user=invited, organization=org).role == "labeler"


def test_an_expired_link_is_refused(invite, client_for, admin, org, client, settings):
    invite(admin, org)
    token = token_in_mail()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = client.get(f"/invite/{token}")
    signup = client.post(f"/invite/{token}", {"password": "a-new-passphrase-7"})
    listed = client_for(admin).get(f"/api/organizations/{org.pk}/invitations")

    assert page.status_code == 410 and services.INVITATION_EXPIRED in page.content.decode()
    assert signup.status_code == 410
    assert not User.objects.filter(email="newbie@example.com").exists()
    assert [(i["email"], i["status"]) for i in listed.data] == [("newbie@example.com", "expired")]


def test_a_new_link_expires_after_the_configured_hours(invite, client_for, admin, org, settings):
    settings.INVITATION_TTL_HOURS = 2
    before = timezone.now()
    invite(admin, org)
    expires = Invitation.objects.get().expires_at
    assert timedelta(hours=2) <= expires - before < timedelta(hours=2, seconds=30)


def test_a_withdrawn_or_unknown_link_is_refused(invite, client_for, admin, org, client):
    created = invite(admin, org)
    token = token_in_mail()

    revoked = client_for(admin).delete(f"/api/organizations/{org.pk}/invitations/{created.data['id']}")
    page = client.get(f"/invite/{token}")
    unknown = client.get("/invite/not-a-token")

    assert revoked.status_code == 204
    assert page.status_code == 410 and services.INVITATION_REVOKED in page.content.decode()
    assert unknown.status_code == 404 and services.INVITATION_INVALID in unknown.content.decode()


def test_another_organizations_invitations_are_404(invite, client_for, admin, org, other_org, make_member):
    other_admin = make_member("admin", other_org)
    theirs = invite(other_admin, other_org, email="theirs@example.com")
    ours = client_for(admin)

    listing = ours.get(f"/api/organizations/{other_org.pk}/invitations")
    revoke_there = ours.delete(f"/api/organizations/{other_org.pk}/invitations/{theirs.data['id']}")
    revoke_here = ours.delete(f"/api/organizations/{org.pk}/invitations/{theirs.data['id']}")
    create_there = ours.post(f"/api/organizations/{other_org.pk}/invitations", {"email": "x@example.com"},
                             format="json")
    team_page = ours.get(f"/organizations/{other_org.pk}/team")

    assert [r.status_code for r in (listing, revoke_there, create_there)] == [404, 404, 404]
    assert (revoke_here.status_code, revoke_here.data) == (404, {"detail": services.INVITATION_NOT_FOUND})
    assert team_page.status_code == 302  # the page needs a session login; with one it is a 404 (below)
    assert Invitation.objects.get(pk=theirs.data["id"]).revoked_at is None


def test_only_admins_invite_and_members_are_not_invited_twice(invite, client_for, admin, org, make_member, client):
    reviewer = make_member("reviewer", org, email="rev@example.com")
    as_reviewer = client_for(reviewer).post(f"/api/organizations/{org.pk}/invitations",
                                            {"email": "x@example.com"}, format="json")
    member_again = invite(admin, org, email="REV@example.com")

    assert as_reviewer.status_code == 403
    assert (member_again.status_code, member_again.data) == (400, {"email": [services.ALREADY_MEMBER]})
    assert mail.outbox == []
    client.force_login(reviewer)
    assert client.get(f"/organizations/{org.pk}/team").status_code == 403


def test_the_team_page_invites_lists_and_withdraws(admin, org, other_org, client, django_capture_on_commit_callbacks):
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/organizations/{org.pk}/team", {"form": "invite", "email": "pat@example.com",
                                                              "role": "labeler"}, follow=True)
    html = sent.content.decode()
    token = token_in_mail()
    assert f"Invitation sent to pat@example.com. Its link (also in the mail): http://testserver/invite/{token}" in html
    assert "pat@example.com</td><td>Labeler</td><td>pending</td>" in html
    invitation = Invitation.objects.get()
    withdrawn = client.post(f"/organizations/{org.pk}/team", {"form": "revoke", "invitation": invitation.pk},
                            follow=True)
    assert "The invitation to pat@example.com is withdrawn." in withdrawn.content.decode()
    assert "pat@example.com</td><td>Labeler</td><td>revoked</td>" in withdrawn.content.decode()
    assert client.get(f"/organizations/{other_org.pk}/team").status_code == 404
    assert client.get("/team/")["Location"] == f"/organizations/{org.pk}/team"


def test_signing_up_on_the_page_creates_a_workspace_and_logs_in(client):
    page = client.post("/signup/", {"email": "Solo@Example.com", "password": PASSWORD, "full_name": "Solo"})
    taken = client.post("/signup/", {"email": "solo@example.com", "password": PASSWORD})

    assert (page.status_code, page["Location"]) == (302, "/")
    user = User.objects.get(email="solo@example.com")
    assert [(m.organization.name, m.role) for m in Membership.objects.filter(user=user)] == [
        ("Solo's workspace", "admin")]
    assert taken.status_code == 302  # already logged in: back to the projects
    client.logout()
    again = client.post("/signup/", {"email": "solo@example.com", "password": PASSWORD})
    assert services.EMAIL_TAKEN in again.content.decode()


def test_accepting_counts_against_the_plans_member_limit(invite, client_for, admin, org, make_member, settings):
    from accounts.plans import PLAN_LIMIT_REACHED

    settings.BILLING_ENABLED = True
    make_member("viewer", org)
    invite(admin, org, email="third@example.com")
    token_third = token_in_mail()
    invite(admin, org, email="fourth@example.com")
    token_fourth = token_in_mail()
    third, fourth = make_member("viewer", email="third@example.com"), make_member("viewer", email="fourth@example.com")

    joined = client_for(third).post("/api/invitations/accept", {"token": token_third}, format="json")
    refused = client_for(fourth).post("/api/invitations/accept", {"token": token_fourth}, format="json")

    assert joined.status_code == 200  # the free plan's third member
    assert (refused.status_code, refused.data["detail"]) == (
        403, PLAN_LIMIT_REACHED.format(plan="Free", limit=3, what="members", count=3))
    assert Invitation.objects.get(email="fourth@example.com").accepted_at is None  # still usable after an upgrade


def test_another_organizations_link_joins_only_that_organization_and_only_for_its_address(
        invite, client_for, org, other_org, make_member, client):
    """A member of one organization opens another organization's link: it joins that organization alone, with
    the link's role, for the invited address alone, and only once; their own organization is untouched."""
    theirs_admin = make_member("admin", other_org, email="other-boss@example.com")
    ours = make_member("manager", org, email="mo@example.com")
    colleague = make_member("reviewer", org, email="colleague@example.com")
    invite(theirs_admin, other_org, email="mo@example.com", role="viewer")
    token = token_in_mail()

    client.force_login(colleague)  # the link forwarded to a colleague of ours: refused, nothing joined
    wrong = client.post(f"/invite/{token}")
    assert wrong.status_code == 200
    assert services.INVITATION_OTHER_EMAIL.format(email="mo@example.com") in wrong.content.decode()
    assert not Membership.objects.filter(user=colleague, organization=other_org).exists()

    client.force_login(ours)
    page = client.get(f"/invite/{token}")
    assert f"Join {other_org.name}" in page.content.decode() and "You are logged in as mo@example.com." in \
        page.content.decode()
    joined = client.post(f"/invite/{token}", follow=True)
    assert JOINED.format(organization=other_org.name, role="viewer") in joined.content.decode()
    assert sorted(Membership.objects.filter(user=ours).values_list("organization_id", "role")) == sorted(
        [(org.pk, "manager"), (other_org.pk, "viewer")])
    again = client.post(f"/invite/{token}")
    assert (again.status_code, services.INVITATION_USED in again.content.decode()) == (410, True)
    # the other organization's admin gained nothing in ours
    assert client_for(theirs_admin).get(f"/api/organizations/{org.pk}/invitations").status_code == 404
    assert not Membership.objects.filter(user=theirs_admin, organization=org).exists()
