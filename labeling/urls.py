from django.urls import path

from labeling import api

urlpatterns = [
    path("upload", api.UploadView.as_view(), name="upload"),
    path("uploads", api.ImportJobListView.as_view(), name="uploads"),
    path("uploads/<int:import_id>", api.ImportJobDetailView.as_view(), name="upload-detail"),
    path("files/<int:id>", api.FilesView.as_view(), name="files"),
    path("files/<int:item_id>/download", api.FileDownloadView.as_view(), name="file-download"),
]
