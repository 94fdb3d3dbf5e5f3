"""Fixtures shared by the upload tests: a labeler of ``org`` and their API client."""

import pytest


@pytest.fixture
def labeler(org, make_member):
    return make_member("labeler", org)


@pytest.fixture
def client(labeler, org, client_for):
    """The labeler's API client (in tests/labeling this replaces pytest-django's ``client``)."""
    return client_for(labeler, org)


def upload(client, project, *files, **extra):
    return client.post("/api/upload", {"project": project.id, "files": list(files), **extra}, format="multipart")
