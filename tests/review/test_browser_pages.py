"""Every page at 820 px in real Chromium: nothing overflows sideways, and the keyboard reaches the controls
(the label editor reorders with Tab and Enter alone)."""

import pytest

from projects.models import LabelSchema, Project
from review.views import PROJECT_SETTINGS_SAVED
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


def test_the_settings_page_saves_from_the_keyboard_and_names_an_invalid_value(live_server, page, artifacts_dir,
                                                                              world):
    Project.objects.filter(pk=world.project.pk).update(default_model="vader-sentiment")
    log_in(page, live_server.url, world.manager.email)
    page.set_viewport_size(TABLET)
    url = f"{live_server.url}/projects/{world.project.pk}/settings"
    page.goto(url)
    target = page.locator("#setting-target_precision")
    assert target.input_value() == "0.97"

    # keyboard only: Tab from the threshold's risk back to the target, type, Enter submits the form
    page.locator("#setting-precision_delta").focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.id") == "setting-target_precision"
    page.keyboard.press("Control+A")
    page.keyboard.type("0.9")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("0.1")
    page.locator("#setting-learn_every").fill("40")
    page.locator("#setting-strict_precision").focus()
    page.keyboard.press("Space")
    page.locator("#setting-overlap_fraction").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text={PROJECT_SETTINGS_SAVED}")
    page.reload()
    assert (target.input_value(), page.locator("#setting-precision_delta").input_value(),
            page.locator("#setting-learn_every").input_value()) == ("0.9", "0.1", "40")
    assert page.locator("#setting-strict_precision").is_checked()
    project = Project.objects.get(pk=world.project.pk)
    assert (project.target_precision, project.precision_delta, project.learn_every, project.strict_precision) == (
        0.9, 0.1, 40, True)

    # an invalid value: nothing saved, the reason beside the field, what was typed kept
    target.fill("1.5")
    target.press("Enter")
    error = page.locator("#error-target_precision")
    error.wait_for()
    assert error.inner_text() == "Ensure this value is less than or equal to 0.999."
    assert target.get_attribute("aria-invalid") == "true" and target.input_value() == "1.5"
    assert page.locator("#settings-errors").inner_text() == "Nothing was saved: correct the field marked below."
    assert page.evaluate("() => document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(artifacts_dir / "settings_invalid_820.png"), full_page=True)
    assert Project.objects.get(pk=world.project.pk).target_precision == 0.9
