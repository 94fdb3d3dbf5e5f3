"""The pages still work under the Content-Security-Policy in real Chromium, with no violation reported."""

import pytest

from tests.factories import PASSWORD
from tests.review.scenario import item_waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_login_review_and_docs_pages_work_under_the_policy_in_chromium(live_server, page, world):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    item_waiting(world.project, world.schema, top="cat", confidence=0.4, text="A cat sat on the mat.")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", world.reviewer.email)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/projects/{world.project.pk}/review")
    page.wait_for_selector("#item-content .item-text")  # review.js ran and fetched the queue
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)  # Swagger UI loaded the schema and rendered
    assert violations == []
