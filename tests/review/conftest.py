"""Fixtures for review tests: a project with members by role; gold checks off unless a test turns them on."""

from __future__ import annotations

import pytest

from tests.factories import ProjectFactory
from tests.review.scenario import ReviewWorld, schema_for


@pytest.fixture
def world(org, make_member) -> ReviewWorld:
    """A single-label project (cat/dog/bird) in ``org`` with an admin (manager), two reviewers, a labeler
    and a viewer; no gold checks mixed in unless a test asks for them."""
    project = ProjectFactory(organization=org, project_type="text_classification", lease_seconds=600)
    schema = schema_for(project)
    return ReviewWorld(
        project=project, schema=schema, manager=make_member("admin", org, email="manager@example.com"),
        reviewer=make_member("reviewer", org, email="rita@example.com"),
        reviewer2=make_member("reviewer", org, email="rob@example.com"),
        labeler=make_member("labeler", org), viewer=make_member("viewer", org),
    )


@pytest.fixture(autouse=True)
def _no_gold_unless_asked(settings):
    settings.REVIEW_GOLD_RATE = 0.0
