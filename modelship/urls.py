from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import page_urlpatterns as account_page_urlpatterns
from modelship.api import HealthView
from review.urls import page_urlpatterns

api_patterns = [
    path("health", HealthView.as_view(), name="health"),
    path("", include("accounts.urls")),
    path("", include("projects.urls")),
    path("", include("labeling.urls")),
    path("", include("review.urls")),
    path("", include("exports.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),  # no inline script (CSP)
    path("api/", include(api_patterns)),
    *account_page_urlpatterns,
    *page_urlpatterns,
]
