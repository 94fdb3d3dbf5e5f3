"""Every page at 820 px in real Chromium: nothing overflows sideways, and the keyboard reaches the controls
(the label editor reorders with Tab and Enter alone)."""

import pytest

from projects.models import LabelSchema
from tests.factories import JobFactory
from tests.review.scenario import item_waiting
from tests.review.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 820, "height": 1180}


def test_every_page_fits_820_pixels_and_the_label_editor_works_from_the_keyboard(
        live_server, page, artifacts_dir, world):
    item = item_waiting(world.project, world.schema, text="A sentence long enough to wrap " * 8)
    job = JobFactory(project=world.project)
    log_in(page, live_server.url, world.manager.email)
    page.set_viewport_size(TABLET)
    p = world.project.pk
    org = world.project.organization_id
    for path in ["/", "/projects/new", f"/projects/{p}/items", f"/projects/{p}/items/{item.pk}",
                 f"/projects/{p}/upload", f"/projects/{p}/jobs", f"/projects/{p}/jobs/{job.pk}", "/jobs/",
                 f"/projects/{p}/labels", f"/projects/{p}/exports", f"/projects/{p}/settings",
                 f"/organizations/{org}/team"]:
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= TABLET["width"], path
    page.screenshot(path=str(artifacts_dir / "team_page_820.png"), full_page=True)

    # The label editor from the keyboard: focus "Move dog up", press Enter, save with Enter.
    page.goto(f"{live_server.url}/projects/{p}/labels")
    page.wait_for_selector("#schema-rows tr")
    page.locator("button[aria-label='Move dog up']").focus()
    page.keyboard.press("Enter")
    # dog is first now: its up button is off, so the focus stays on the row, on its down button
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Move dog down"
    page.locator("#schema-save").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Labels saved as version 2.")
    latest = LabelSchema.objects.filter(project=world.project).order_by("-version").first()
    assert list(latest.categories.order_by("order").values_list("path", flat=True)) == ["dog", "cat", "bird"]
