from django.urls import path

from labeling.active_learning import api as active_learning_api
from labeling.inference import api as inference_api
from labeling.items import api as items_api
from labeling.learning import api as learning_api

urlpatterns = [
    path("upload", items_api.UploadView.as_view(), name="upload"),
    path("uploads", items_api.ImportJobListView.as_view(), name="uploads"),
    path("uploads/<int:import_id>", items_api.ImportJobDetailView.as_view(), name="upload-detail"),
    path("files/<int:user_id>", items_api.UserFilesView.as_view(), name="user-files"),
    path("items/<int:item_id>", items_api.ItemDetailView.as_view(), name="item-detail"),
    path("projects/<int:project_id>/items", items_api.ProjectItemListView.as_view(), name="project-items-api"),
    path("items/<int:item_id>/download", items_api.ItemDownloadView.as_view(), name="item-download"),
    path("items/<int:item_id>/thumbnail", items_api.ItemThumbnailView.as_view(), name="item-thumbnail"),
    path("classify/text", inference_api.ClassifyTextView.as_view(), name="classify-text"),
    path("classify/text/quick", inference_api.ClassifyTextQuickView.as_view(), name="classify-text-quick"),
    path("classify/text/batch", inference_api.ClassifyTextBatchView.as_view(), name="classify-text-batch"),
    path("classify/image", inference_api.ClassifyImageView.as_view(), name="classify-image"),
    path("classify/image/batch", inference_api.ClassifyImageBatchView.as_view(), name="classify-image-batch"),
    path("projects/<int:project_id>/classify", inference_api.ProjectClassifyView.as_view(), name="project-classify"),
    path("jobs", inference_api.JobListView.as_view(), name="jobs"),
    path("jobs/<int:job_id>", inference_api.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/results", inference_api.JobResultsView.as_view(), name="job-results"),
    path("jobs/<int:job_id>/cancel", inference_api.JobCancelView.as_view(), name="job-cancel"),
    path("models", inference_api.ModelListView.as_view(), name="models"),
    path("projects/<int:project_id>/learning", learning_api.ProjectLearningView.as_view(), name="project-learning"),
    path("projects/<int:project_id>/learn", learning_api.ProjectLearnView.as_view(), name="project-learn"),
    path("active-learning/strategies", active_learning_api.StrategiesView.as_view(), name="al-strategies"),
    path("active-learning/suggest-samples/<int:job_id>", active_learning_api.SuggestSamplesView.as_view(),
         name="al-suggest"),
    path("active-learning/analyze-effectiveness/<int:job_id>",
         active_learning_api.AnalyzeEffectivenessView.as_view(), name="al-analyze"),
    path("active-learning/label-issues", active_learning_api.LabelIssueListView.as_view(), name="al-label-issues"),
    path("active-learning/label-issues/<int:issue_id>/resolve",
         active_learning_api.LabelIssueResolveView.as_view(), name="al-label-issue-resolve"),
    path("projects/<int:project_id>/label-issues/scan", active_learning_api.LabelIssueScanView.as_view(),
         name="al-label-issue-scan"),
]

# Server-rendered pages, at the site root.
from labeling import views  # noqa: E402

page_urlpatterns = [
    path("jobs/", views.all_jobs_page, name="jobs-page"),
    path("projects/<int:project_id>/upload", views.upload_page, name="project-upload"),
    path("projects/<int:project_id>/jobs", views.jobs_page, name="project-jobs"),
    path("projects/<int:project_id>/jobs/<int:job_id>", views.job_page, name="job-page"),
    path("projects/<int:project_id>/items", views.items_page, name="project-items"),
    path("projects/<int:project_id>/items/<int:item_id>", views.item_page, name="item-page"),
]
