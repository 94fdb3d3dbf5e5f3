from django.urls import path

from projects import api

urlpatterns = [
    path("projects/", api.ProjectListCreateView.as_view(), name="projects"),
    path("projects/templates", api.ProjectTemplateListView.as_view(), name="project-templates"),
    path("projects/<int:project_id>", api.ProjectDetailView.as_view(), name="project-detail"),
    path("projects/<int:project_id>/label-schema", api.LabelSchemaView.as_view(), name="project-label-schema"),
    path("projects/<int:project_id>/label-schema/versions", api.LabelSchemaVersionListView.as_view(),
         name="project-label-schema-versions"),
    path("projects/<int:project_id>/label-schema/versions/<int:version>", api.LabelSchemaVersionDetailView.as_view(),
         name="project-label-schema-version"),
    path("projects/<int:project_id>/assign", api.AssignView.as_view(), name="project-assign"),
    path("projects/<int:project_id>/assignments", api.AssignmentListView.as_view(), name="project-assignments"),
    path("projects/<int:project_id>/assignments/<int:user_id>", api.AssignmentDetailView.as_view(),
         name="project-assignment"),
]

# Server-rendered pages, at the site root.
from projects import views  # noqa: E402

page_urlpatterns = [
    path("projects/new", views.project_new_page, name="project-new"),
    path("projects/<int:project_id>/labels", views.labels_page, name="project-labels"),
]
