from django.urls import path

from review import api

urlpatterns = [
    path("review/queue", api.QueueView.as_view(), name="review-queue"),
    path("review/submit", api.SubmitView.as_view(), name="review-submit"),
    path("review/batch", api.BatchView.as_view(), name="review-batch"),
    path("review/undo", api.UndoView.as_view(), name="review-undo"),
    path("review/release", api.ReleaseView.as_view(), name="review-release"),
    path("review/stats", api.StatsView.as_view(), name="review-stats"),
    path("review/adjudication", api.AdjudicationView.as_view(), name="review-adjudication"),
    path("review/gold", api.GoldView.as_view(), name="review-gold"),
    path("review/settings", api.ReviewSettingsView.as_view(), name="review-settings"),
]

