from django.urls import path

from labeling import api

urlpatterns = [
    path("upload", api.UploadView.as_view(), name="upload"),
    path("uploads", api.ImportJobListView.as_view(), name="uploads"),
    path("uploads/<int:import_id>", api.ImportJobDetailView.as_view(), name="upload-detail"),
    path("files/<int:id>", api.FilesView.as_view(), name="files"),
    path("files/<int:item_id>/download", api.FileDownloadView.as_view(), name="file-download"),
]

from labeling import api_jobs  # noqa: E402

urlpatterns += [
    path("classify/text", api_jobs.ClassifyTextView.as_view(), name="classify-text"),
    path("classify/text/quick", api_jobs.ClassifyTextQuickView.as_view(), name="classify-text-quick"),
    path("classify/text/batch", api_jobs.ClassifyTextBatchView.as_view(), name="classify-text-batch"),
    path("classify/image", api_jobs.ClassifyImageView.as_view(), name="classify-image"),
    path("classify/image/batch", api_jobs.ClassifyImageBatchView.as_view(), name="classify-image-batch"),
    path("projects/<int:project_id>/classify", api_jobs.ProjectClassifyView.as_view(), name="project-classify"),
    path("projects/<int:project_id>/calibration", api_jobs.ProjectCalibrationView.as_view(),
         name="project-calibration"),
    path("jobs/<int:job_id>", api_jobs.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/results", api_jobs.JobResultsView.as_view(), name="job-results"),
    path("jobs/<int:job_id>/cancel", api_jobs.JobCancelView.as_view(), name="job-cancel"),
    path("models", api_jobs.ModelListView.as_view(), name="models"),
]
