"""Views scoped to one project, in the style of DRF's ``GenericAPIView.get_object``: the view names the
roles each method needs (``project_roles``, a set or a dict per HTTP method) and reads its project with
``get_project()``, which applies the one access rule (``projects.selectors.project_get_for_user``) once
per request."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from projects.models import Project
from projects.permissions import ANY_PROJECT_ROLE, project_roles_for
from projects.selectors import project_get_for_user

PROJECT_REQUIRED = "This field is required."


class ProjectScopedMixin:
    project_roles: frozenset[str] | dict[str, frozenset[str]] = ANY_PROJECT_ROLE
    project_url_kwarg = "project_id"
    project_counts = False  # annotate ``item_count`` (the project's own page)

    def get_project(self, project_id=None) -> Project:
        """The project of this request: ``project_id`` when the view reads it from the body or the query,
        else the URL's ``project_url_kwarg``. 404 when the caller cannot see it, 403 when their role
        does not allow this method. Looked up once per request."""
        if project_id is None:
            if self.project_url_kwarg not in self.kwargs:
                raise ValidationError({"project": [PROJECT_REQUIRED]})
            project_id = self.kwargs[self.project_url_kwarg]
        cached = getattr(self, "_project", None)
        if cached is not None and str(cached.pk) == str(project_id):
            return cached
        self._project = project_get_for_user(user=self.request.user, project_id=project_id,
                                             require=project_roles_for(self, self.request.method),
                                             counts=self.project_counts)
        return self._project


class ProjectScopedView(ProjectScopedMixin, APIView):
    pass


class ProjectScopedListView(ProjectScopedMixin, GenericAPIView):
    pass
