"""The review page in real Chromium: log in, review with the keyboard alone, watch the progress bar."""

import re

import pytest
from django.utils import timezone

from labeling.models import Item, LearningRound
from review.models import ReviewDecision
from tests.conftest import wait_until
from tests.factories import PASSWORD
from tests.review.scenario import image_waiting, item_waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}


def log_in(page, base_url: str, email: str) -> None:
    """Through the login page, keyboard only: the email field has focus."""
    page.goto(f"{base_url}/login/")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_username'")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/")


def current_item(page) -> str:
    return page.locator("#item-meta").inner_text().split(" · ")[0]


def press_and_wait(page, key: str) -> None:
    """Press a key and wait until the page shows another item (or says the queue is empty)."""
    before = current_item(page)
    page.keyboard.press(key)
    page.wait_for_function(
        "before => document.getElementById('empty').hidden === false"
        " || document.getElementById('item-meta').textContent.split(' · ')[0] !== before", arg=before)


def test_a_reviewer_logs_in_and_reviews_five_items_with_the_keyboard(
        live_server, page, artifacts_dir, world):
    items = [item_waiting(world.project, world.schema, top="cat", confidence=0.4 + i / 100,
                          text=f"Review sentence number {i}: a cat sat on the mat.") for i in range(6)]
    log_in(page, live_server.url, world.reviewer.email)
    assert world.project.name in page.locator(".project-list").inner_text()

    page.goto(f"{live_server.url}/projects/{world.project.pk}/review")
    page.wait_for_selector("#item-content .item-text")
    progress = page.locator("#progress-text")
    assert re.sub(r"\s+", " ", progress.inner_text()) == "0 reviewed · 6 waiting · you: 0"
    assert page.locator("#progress-bar").evaluate("el => el.style.width") == "0%"
    assert current_item(page) == f"#{items[0].pk}"
    assert page.locator("#predictions .prediction").count() == 3

    press_and_wait(page, "Enter")                     # approve the prediction (cat)
    assert re.sub(r"\s+", " ", progress.inner_text()) == "1 reviewed · 5 waiting · you: 1"
    assert page.locator("#progress-bar").evaluate("el => el.style.width") == "16.7%"
    press_and_wait(page, "d")                         # modify: dog
    press_and_wait(page, "x")                         # reject
    press_and_wait(page, "s")                         # skip
    press_and_wait(page, "Enter")                     # approve
    page.keyboard.press("z")                          # undo: the item comes back
    page.wait_for_function(f"() => document.getElementById('item-meta').textContent.startsWith('#{items[4].pk}')")
    press_and_wait(page, "b")                         # decide it again: bird
    page.screenshot(path=str(artifacts_dir / "review_page.png"))
    press_and_wait(page, "Enter")                     # approve the last one

    assert re.sub(r"\s+", " ", progress.inner_text()) == "5 reviewed · 1 waiting · you: 5"
    assert page.locator("#progress-bar").evaluate("el => el.style.width") == "83.3%"
    live = ReviewDecision.objects.filter(undone_at__isnull=True).order_by("id")
    assert [(d.item_id, d.decision, d.labels, d.reviewer_id) for d in live] == [
        (items[0].pk, "approve", ["cat"], world.reviewer.pk),
        (items[1].pk, "modify", ["dog"], world.reviewer.pk),
        (items[2].pk, "reject", [], world.reviewer.pk),
        (items[4].pk, "modify", ["bird"], world.reviewer.pk),
        (items[5].pk, "approve", ["cat"], world.reviewer.pk),
    ]
    assert ReviewDecision.objects.filter(undone_at__isnull=False).count() == 1
    assert all(d.seconds_spent >= 0 for d in live)
    # the skip's release is sent without waiting for it (and again if a fetch begun before it leased the item)
    wait_until(lambda: Item.objects.get(pk=items[3].pk).lease_owner_id is None, timeout=10,
               message="the skipped item's lease to be released")
    skipped = Item.objects.get(pk=items[3].pk)
    assert (skipped.state, skipped.lease_owner_id) == ("needs_review", None)
    assert page.locator("#empty").is_visible()


def test_the_review_page_shows_images_scaled_at_laptop_and_tablet_widths(
        live_server, page, chromium, artifacts_dir, world, media_root):
    world.project.project_type = "image_classification"
    world.project.save()
    for i in range(3):
        image_waiting(world.project, world.schema, top="dog", confidence=0.45 + i / 100, size=(1600, 1000),
                      probabilities=[0.3, 0.45 + i / 100, 0.25 - i / 100])
    log_in(page, live_server.url, world.reviewer.email)
    page.goto(f"{live_server.url}/projects/{world.project.pk}/review")
    image = page.locator("#item-content img")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('#item-content img').complete")

    box = image.bounding_box()
    assert box["width"] < 1280 and box["height"] < 800  # scaled down to fit the laptop screen
    assert image.evaluate("img => img.naturalWidth") == 1600  # served by the authorised download endpoint
    page.screenshot(path=str(artifacts_dir / "review_page_image.png"))

    tablet = chromium.new_context(viewport=TABLET, storage_state=page.context.storage_state())
    try:
        small = tablet.new_page()
        small.goto(f"{live_server.url}/projects/{world.project.pk}/review")
        small.locator("#item-content img").wait_for()
        small.wait_for_function("() => document.querySelector('#item-content img').complete")
        width = small.evaluate("() => document.documentElement.scrollWidth")
        assert width <= TABLET["width"]  # nothing overflows sideways
        assert small.locator("#action-approve").is_visible()
        small.screenshot(path=str(artifacts_dir / "review_page_tablet.png"))
        small.goto(f"{live_server.url}/")
        small.screenshot(path=str(artifacts_dir / "project_list_tablet.png"))
        # leaving the review page gave back the leases of the items it held
        wait_until(lambda: not Item.objects.filter(lease_owner=world.reviewer).exists(),
                   timeout=10, message="the leases to be released")
    finally:
        tablet.close()


def test_the_manager_page_renders_at_both_widths(live_server, page, chromium, artifacts_dir, world, client_for):
    from tests.review.scenario import submit

    for i, (decision, labels) in enumerate([("approve", None), ("modify", ["dog"]), ("reject", None)]):
        item = item_waiting(world.project, world.schema, top="cat", confidence=0.5 + i / 100)
        submit(client_for(world.reviewer), item, decision, labels=labels, seconds=3 + i)
    LearningRound.objects.create(project=world.project, trigger="manual", started_at=timezone.now(), labels_used=3,
                                 promotion_reason="too few labels to train a head (3 < 20)",
                                 statement="Nothing is auto-accepted: 99 audited items are needed.")
    log_in(page, live_server.url, world.manager.email)
    page.goto(f"{live_server.url}/projects/{world.project.pk}/manage")

    assert page.locator("#reviewer-stats tbody tr").count() == 1
    assert page.locator("nav.tabs [aria-current=page]").inner_text() == "Quality"
    assert page.locator("#learning-rounds tbody tr").count() == 2  # the round and its statement
    assert "too few labels to train a head" in page.locator("#learning-rounds").inner_text()
    page.screenshot(path=str(artifacts_dir / "manage_page.png"), full_page=True)
    page.set_viewport_size(TABLET)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(artifacts_dir / "manage_page_tablet.png"), full_page=True)
