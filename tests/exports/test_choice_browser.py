"""In real Chromium: a manager chooses fields, a column name and a filter on the exports page, saves
them as a template and picks it for the next export; a forgotten password is reset from the login page."""

import re

import pytest
from django.core import mail

from accounts.models import User
from exports.models import Export, ExportTemplate
from tests.exports.projects_in_db import make_project
from tests.review.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_chooses_fields_saves_a_template_and_picks_it(live_server, page, make_member, org):
    manager = make_member("admin", organization=org)
    texts = make_project(organization=org, kind="text")
    log_in(page, live_server.url, manager.email)

    page.goto(f"{live_server.url}/projects/{texts.project.pk}/exports")
    page.locator("#export-format").select_option("csv")
    page.locator("#export-choice summary").click()
    for field in ("id", "text", "labels"):
        page.locator(f"#field-{field}").check()
    page.locator("#rename-labels").fill("target")
    page.locator("#export-filters input[name=filter_source][value=review]").check()
    page.locator("#template-name").fill("Reviewed, for training")
    page.locator("#export-start").click()
    page.wait_for_selector("text=Export template 'Reviewed, for training' saved")

    template = ExportTemplate.objects.get()
    assert (template.fields, template.rename, template.filters) == (
        ["id", "text", "labels"], {"labels": "target"}, {"source": ["review"]})
    first = Export.objects.get()
    assert (first.format, first.options["fields"], first.options["rename"], first.options["filters"]) == (
        "csv", ["id", "text", "labels"], {"labels": "target"}, {"source": ["review"]})

    page.locator("#export-format").select_option("jsonl")
    page.locator("#export-template").select_option(label="Reviewed, for training")
    page.locator("#export-start").click()
    page.wait_for_function("() => document.querySelectorAll('#exports tbody tr').length === 2")
    picked = Export.objects.get(format="jsonl")
    assert (picked.options["template"], picked.options["fields"], picked.options["filters"]) == (
        template.pk, ["id", "text", "labels"], {"source": ["review"]})


def test_a_forgotten_password_is_reset_from_the_login_page(live_server, page, make_member, org):
    user = make_member("viewer", organization=org)
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.locator("#id_email").fill(user.email)
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_selector("[data-testid=reset-sent]")

    [message] = mail.outbox
    link = re.search(r"http://\S+/password/reset/confirm/\S+", message.body).group(0)
    page.goto(link)
    page.locator("#id_new_password").fill("a-brand-new-passphrase-4")
    page.locator("#id_new_password_again").fill("a-brand-new-passphrase-4")
    page.get_by_role("button", name="Set the password").click()
    page.wait_for_url(f"{live_server.url}/login/")
    assert "Your password is set" in page.locator(".messages").inner_text()
    assert User.objects.get(pk=user.pk).check_password("a-brand-new-passphrase-4")
