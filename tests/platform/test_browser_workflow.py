"""The whole workflow in real Chromium, pages only, from a fresh sign-up to a downloaded export: a project
from a template, its labels, a CSV and a ZIP of images through the file input, auto-labeling on a real
worker with the bar reaching 100%, ten items reviewed with the keyboard, a JSON export downloaded and read.
Screenshots at 1366×768 and 820×1180 go to the test artifacts."""

import io
import json
import random
import re
import zipfile

import pytest
from PIL import Image

from labeling.models import Item
from review.models import ReviewDecision

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
EMAIL = "newcomer@example.com"
PASSWORD = "a-fresh-passphrase-42"
COLORS = {"red": (210, 40, 40), "blue": (40, 60, 210)}


def image_zip() -> bytes:
    """Seven reddish and seven bluish 64×64 PNGs (each a little different, so none is a duplicate)."""
    rng = random.Random(7)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, (r, g, b) in COLORS.items():
            for i in range(7):
                image = Image.new("RGB", (64, 64), (r, g + i * 3, b))
                for _ in range(40):
                    image.putpixel((rng.randrange(64), rng.randrange(64)), (rng.randrange(256),) * 3)
                png = io.BytesIO()
                image.save(png, "PNG")
                archive.writestr(f"shapes/{name}_{i}.png", png.getvalue())
    return out.getvalue()


def shoot(page, artifacts_dir, name: str) -> None:
    """A screenshot at the laptop and tablet sizes; nothing may overflow sideways at 820 px."""
    page.set_viewport_size(LAPTOP)
    page.screenshot(path=str(artifacts_dir / f"workflow_{name}_1366.png"), full_page=True)
    page.set_viewport_size(TABLET)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= TABLET["width"], name
    page.screenshot(path=str(artifacts_dir / f"workflow_{name}_820.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def test_from_sign_up_to_a_downloaded_export_in_the_browser(live_server, worker, chromium, artifacts_dir,
                                                            tmp_path):
    context = chromium.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    base = live_server.url
    try:
        # 1. Sign up, keyboard only: the email field has focus.
        page.goto(f"{base}/login/")
        page.get_by_role("link", name="Create an account").click()
        page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_email'")
        page.keyboard.type(EMAIL)
        page.keyboard.press("Tab")
        page.keyboard.type("Nia Newcomer")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/")
        assert page.locator("#projects-empty h2").inner_text() == "Create your first project"
        shoot(page, artifacts_dir, "projects_empty")

        # 2. A project from the "Custom image categories" template, and its labels in the editor.
        page.get_by_role("link", name="Create your first project").click()
        page.locator("#id_name").fill("Colours")
        page.get_by_label(re.compile("Custom image categories")).check()
        shoot(page, artifacts_dir, "new_project")
        page.get_by_role("button", name="Create project").click()
        page.wait_for_url(re.compile(r"/projects/\d+/labels$"))
        project_id = int(re.search(r"/projects/(\d+)/labels", page.url)[1])
        page.locator("#schema-new").fill("red")
        page.keyboard.press("Enter")
        page.keyboard.type("blue")
        page.keyboard.press("Enter")
        assert page.locator("#schema-rows tr").count() == 2
        page.get_by_role("button", name="Save as new version").click()
        page.wait_for_selector("text=Labels saved as version 1.")
        assert page.locator("#schema-versions tbody tr").count() == 1
        shoot(page, artifacts_dir, "labels")

        # 3. Upload a CSV (labels for two images) and a ZIP of images through the file input.
        page.get_by_role("link", name="Upload", exact=True).click()
        csv = b"file,label\nshapes/red_0.png,red\nshapes/blue_0.png,blue\n"
        page.locator("#upload-input").set_input_files([
            {"name": "labels.csv", "mimeType": "text/csv", "buffer": csv},
            {"name": "shapes.zip", "mimeType": "application/zip", "buffer": image_zip()},
        ])
        page.wait_for_selector("#upload-report-table")
        assert page.locator("#upload-status").inner_text() == "Done: 14 accepted, 0 duplicates, 0 rejected."
        assert [page.locator("#upload-list .file-percent").nth(i).inner_text() for i in range(2)] == ["100%", "100%"]
        shoot(page, artifacts_dir, "upload")
        assert Item.objects.filter(project_id=project_id).count() == 14
        assert Item.objects.filter(project_id=project_id, final_source="import").count() == 2

        # 4. Auto-label with the model chosen, and watch the bar reach 100%.
        page.get_by_role("link", name="Auto-label the new items").click()
        assert page.locator("#autolabel-model").input_value() == "efficientnet-lite0-custom"
        page.get_by_role("button", name="Auto-label 12 items").click()
        page.wait_for_url(re.compile(r"/projects/\d+/jobs/\d+$"))
        page.wait_for_function("() => document.getElementById('job-percent').textContent === '100%'",
                               timeout=240_000)
        page.wait_for_selector("#job-next:not([hidden])", timeout=30_000)
        assert page.locator("#job-status").inner_text() == "succeeded"
        assert page.locator("#job-progress").get_attribute("aria-valuenow") in ("100", "100.0")
        assert "Nothing is auto-accepted yet" in page.locator("#audit-state").inner_text()
        shoot(page, artifacts_dir, "job")

        # 5. Review ten items with the keyboard: 1 is red, 2 is blue (keys given automatically).
        page.get_by_role("link", name="Review", exact=True).first.click()
        page.wait_for_selector("#item-content img")
        page.wait_for_function("() => document.querySelector('#item-content img').complete")
        page.keyboard.press("+")  # zoom in, and back
        assert "scale(1.25)" in page.locator("#item-content img").evaluate("img => img.style.transform")
        page.keyboard.press("Escape")
        shoot(page, artifacts_dir, "review")
        answers = {}
        for _ in range(10):
            meta = page.locator("#item-meta").inner_text()
            item_id = int(meta.split(" · ")[0][1:])
            colour = "red" if "red_" in meta else "blue"
            answers[item_id] = colour
            page.keyboard.press("1" if colour == "red" else "2")
            page.wait_for_function(
                "before => document.getElementById('empty').hidden === false"
                " || document.getElementById('item-meta').textContent !== before", arg=meta)
        assert ReviewDecision.objects.filter(project_id=project_id, undone_at__isnull=True).count() == 10

        # 6. Export JSON (people's labels only), download it, read it.
        page.get_by_role("link", name="Export").click()
        page.locator("#export-format").select_option("json")
        page.locator("#export-auto").uncheck()
        page.get_by_role("button", name="Export", exact=True).click()
        download_link = page.locator("#exports tbody tr").first.get_by_role("link", name="Download")
        download_link.wait_for(timeout=60_000)
        shoot(page, artifacts_dir, "exports")
        with page.expect_download() as info:
            download_link.click()
        path = tmp_path / "export.zip"
        info.value.save_as(path)
        with zipfile.ZipFile(path) as archive:
            exported = json.loads(archive.read("labels.json"))
        labels = {row["item_id"]: row["labels"] for row in exported["items"]}
        assert {item_id: labels[item_id] for item_id in answers} == {k: [v] for k, v in answers.items()}
        assert len(labels) == 12  # the ten reviewed and the two the CSV labelled
        assert (exported["project"], exported["classes"]) == ("Colours", ["red", "blue"])
        assert all(row["file_name"] and row["split"] == "train" for row in exported["items"])

        # The data browser shows what happened.
        page.get_by_role("link", name="Data").click()
        page.locator("#filter-source").select_option("review")
        page.get_by_role("button", name="Apply").click()
        assert page.locator("#items .item-tile").count() == 10
        shoot(page, artifacts_dir, "data")
    finally:
        context.close()
