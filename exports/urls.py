from django.urls import path, re_path

from exports import api

urlpatterns = [
    path("export/formats", api.ExportFormatListView.as_view(), name="export-formats"),
    path("export/create/<int:job_id>", api.JobExportCreateView.as_view(), name="export-create"),
    path("export/formats/coco/<int:job_id>", api.JobFormatExportCreateView.as_view(format_name="coco"),
         name="export-coco"),
    path("export/formats/yolo/<int:job_id>", api.JobFormatExportCreateView.as_view(format_name="yolo"),
         name="export-yolo"),
    path("export/formats/pascal-voc/<int:job_id>", api.JobFormatExportCreateView.as_view(format_name="pascal-voc"),
         name="export-pascal-voc"),
    # Any name reaches the view, slashes included, so a path-like one gets its 400 rather than a 404.
    re_path(r"^export/download/(?P<filename>.+)$", api.ExportDownloadView.as_view(), name="export-download"),
    path("projects/<int:project_id>/export", api.ProjectExportCreateView.as_view(), name="project-export"),
    path("projects/<int:project_id>/exports", api.ProjectExportListView.as_view(), name="project-exports-api"),
    path("projects/<int:project_id>/export-templates", api.ExportTemplateListView.as_view(),
         name="export-templates"),
    path("projects/<int:project_id>/export-templates/<int:template_id>", api.ExportTemplateDetailView.as_view(),
         name="export-template"),
    path("exports/<str:export_id>", api.ExportDetailView.as_view(), name="export-detail"),
]

# Server-rendered pages, at the site root.
from exports import views  # noqa: E402

page_urlpatterns = [
    path("projects/<int:project_id>/exports", views.exports_page, name="project-exports"),
]
