from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import page_urlpatterns as account_page_urlpatterns
from analytics.urls import page_urlpatterns as analytics_pages
from billing.urls import page_urlpatterns as billing_pages
from exports.urls import page_urlpatterns as export_page_urlpatterns
from labeling.urls import page_urlpatterns as labeling_page_urlpatterns
from modelship.api import HealthView
from projects.urls import page_urlpatterns as project_page_urlpatterns
from review.urls import page_urlpatterns

api_patterns = [
    path("health", HealthView.as_view(), name="health"),
    path("", include("accounts.urls")),
    path("", include("projects.urls")),
    path("", include("labeling.urls")),
    path("", include("review.urls")),
    path("", include("exports.urls")),
    path("", include("analytics.urls")),
    path("", include("billing.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),  # no inline script (CSP)
    path("api/", include(api_patterns)),
    *account_page_urlpatterns,
    *project_page_urlpatterns,
    *labeling_page_urlpatterns,
    *export_page_urlpatterns,
    *page_urlpatterns,
    *analytics_pages,
    *billing_pages,
]
