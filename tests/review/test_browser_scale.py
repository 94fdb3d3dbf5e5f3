"""The review page of a 1,000-class project in real Chromium: type-ahead search, the model's top five on
keys, keys for the first 33 classes only (and the page says so), the keys overlay, history and undo."""

import re

import pytest

from accounts.models import Membership
from projects.models import Category
from projects.services import project_create
from review.models import ReviewDecision
from tests.review.scenario import item_waiting
from tests.review.test_browser import log_in, press_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_thousand_classes_are_searched_and_the_top_five_are_on_keys(live_server, page, artifacts_dir, org,
                                                                     make_member):
    manager = make_member("admin", org)
    reviewer = make_member("reviewer", org, email="rita@example.com")
    project = project_create(organization=org, created_by=manager, name="ImageNet", template="imagenet")
    project.project_type = "text_classification"  # text items keep the test free of image files
    project.save(update_fields=["project_type"])
    schema = project.schemas.get()
    paths = list(schema.categories.order_by("order").values_list("path", flat=True))
    assert len(paths) == 1000
    probabilities = [0.0005] * 1000
    for index, p in zip((281, 285, 282, 287, 283), (0.4, 0.2, 0.1, 0.08, 0.05), strict=True):  # cats
        probabilities[index] = p
    items = [item_waiting(project, schema, top=paths[281], confidence=0.4, probabilities=probabilities,
                          text=f"A photo of a cat, number {i}") for i in range(3)]
    assert Membership.objects.filter(user=reviewer).count() == 1

    log_in(page, live_server.url, reviewer.email)
    page.goto(f"{live_server.url}/projects/{project.pk}/review")
    page.wait_for_selector("#item-content .item-text")
    assert page.locator("#categories .category").count() == 1000
    assert page.locator("#categories .category kbd").count() == 33  # the keys there are, and no more
    assert page.locator("#labels-hint").inner_text() == "press a key, or / to search"
    assert page.locator("#predictions .prediction-button").count() == 5
    assert page.locator("#predictions .prediction-button").first.inner_text().startswith("⇧1")

    # one keystroke sequence: "/" focuses the search, the words narrow 1,000 classes to one, Enter chooses it
    page.keyboard.press("/")
    page.keyboard.type("golden retr")
    assert page.locator("#categories .category:not([hidden])").count() == 1
    before = page.locator("#item-meta").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_function("b => document.getElementById('item-meta').textContent !== b", arg=before)
    assert page.locator("#categories .category:not([hidden])").count() == 1000  # the search is cleared

    press_and_wait(page, "Shift+2")                    # the model's second label: Egyptian Mau (285)
    page.keyboard.press("?")
    assert page.locator("#keys-overlay").is_visible()
    assert "choose the model's 1st … 5th label" in page.locator("#keys-overlay").inner_text()
    page.screenshot(path=str(artifacts_dir / "review_1000_classes_keys.png"))
    page.keyboard.press("Escape")
    assert page.locator("#keys-overlay").is_hidden()

    page.keyboard.press("z")                            # undo the Shift+2 decision: the item comes back
    page.wait_for_function(f"() => document.getElementById('item-meta').textContent.startsWith('#{items[1].pk}')")
    meta = page.locator("#item-meta").inner_text()
    assert not re.search(r"queue:\s*$", meta) and "queue: ·" not in meta
    history = page.locator("#history li")
    assert history.count() == 2
    assert history.nth(0).inner_text().startswith(f"#{items[1].pk}: {paths[285]}")
    assert "undone" in history.nth(0).inner_text()
    assert history.nth(1).inner_text() == f"#{items[0].pk}: {paths[207]}\nUndo"
    assert history.nth(1).get_by_role("button").get_attribute("aria-label") == f"Undo the decision on #{items[0].pk} (Z)"
    page.screenshot(path=str(artifacts_dir / "review_1000_classes.png"))

    live = ReviewDecision.objects.filter(undone_at__isnull=True).order_by("id")
    assert [(d.item_id, d.decision, d.labels) for d in live] == [(items[0].pk, "modify", ["Golden Retriever"])]
    assert Category.objects.filter(schema=schema, shortcut="").count() == 1000 - 33
