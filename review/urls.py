from django.urls import path

from review import api, views

urlpatterns = [
    path("review/queue", api.QueueView.as_view(), name="review-queue"),
    path("review/submit", api.SubmitView.as_view(), name="review-submit"),
    path("review/batch", api.BatchView.as_view(), name="review-batch"),
    path("review/undo", api.UndoView.as_view(), name="review-undo"),
    path("review/release", api.ReleaseView.as_view(), name="review-release"),
    path("review/adjudication", api.AdjudicationView.as_view(), name="review-adjudication"),
    path("review/gold", api.GoldView.as_view(), name="review-gold"),
    path("review/settings", api.ReviewSettingsView.as_view(), name="review-settings"),
]

# Server-rendered pages, at the site root (the manage page is served by analytics).
page_urlpatterns = [
    path("login/", views.LoginPage.as_view(), name="login"),
    path("logout/", views.LogoutPage.as_view(), name="logout"),
    path("", views.project_list_page, name="project-list"),
    path("projects/<int:project_id>/review", views.review_page, name="review-page"),
    path("projects/<int:project_id>/settings", views.project_settings_page, name="project-settings"),
]
