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

from labeling import api_active_learning  # noqa: E402

urlpatterns += [
    path("active-learning/strategies", api_active_learning.StrategiesView.as_view(), name="al-strategies"),
    path("active-learning/suggest-samples/<int:job_id>", api_active_learning.SuggestSamplesView.as_view(),
         name="al-suggest"),
    path("active-learning/analyze-effectiveness/<int:job_id>", api_active_learning.AnalyzeEffectivenessView.as_view(),
         name="al-analyze"),
    path("active-learning/label-issues", api_active_learning.LabelIssueListView.as_view(), name="al-label-issues"),
    path("active-learning/label-issues/<int:issue_id>/resolve", api_active_learning.LabelIssueResolveView.as_view(),
         name="al-label-issue-resolve"),
    path("projects/<int:project_id>/label-issues/scan", api_active_learning.LabelIssueScanView.as_view(),
         name="al-label-issue-scan"),
]
