from django.urls import path

from analytics import api, views

urlpatterns = [
    path("analytics/user-dashboard", api.UserDashboardView.as_view(), name="analytics-user-dashboard"),
    path("analytics/project-dashboard/<int:project_id>", api.ProjectDashboardView.as_view(),
         name="analytics-project-dashboard"),
    path("analytics/platform-overview", api.PlatformOverviewView.as_view(), name="analytics-platform-overview"),
    path("analytics/cost-savings/<int:project_id>", api.CostSavingsView.as_view(), name="analytics-cost-savings"),
    path("analytics/quality-metrics/<int:project_id>", api.QualityMetricsView.as_view(),
         name="analytics-quality-metrics"),
    # Reports that used to live with the data they read; same paths as before.
    path("projects/<int:project_id>/analytics", api.ProjectSummaryView.as_view(), name="project-analytics"),
    path("projects/<int:project_id>/calibration", api.ProjectCalibrationView.as_view(), name="project-calibration"),
    path("review/stats", api.ReviewStatsView.as_view(), name="review-stats"),
]

# Server-rendered pages, at the site root.
page_urlpatterns = [
    path("dashboard", views.user_dashboard_page, name="user-dashboard"),
    path("dashboard/<slug:table>.csv", views.user_dashboard_csv, name="user-dashboard-csv"),
    path("projects/<int:project_id>/dashboard", views.project_dashboard_page, name="project-dashboard"),
    path("projects/<int:project_id>/dashboard/<slug:table>.csv", views.project_dashboard_csv,
         name="project-dashboard-csv"),
    path("projects/<int:project_id>/manage", views.manage_page, name="manage-page"),
    path("staff/overview", views.platform_overview_page, name="platform-overview"),
    path("staff/overview/<slug:table>.csv", views.platform_overview_csv, name="platform-overview-csv"),
]
