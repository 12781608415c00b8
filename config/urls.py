from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import health, metrics
from utilities import views as job_views

urlpatterns = [
    # Operations (docs/operations.md): liveness, readiness, and Prometheus metrics for the monitoring network.
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("portal.urls")),
    path("", include("accounts.urls")),
    path("ledgers/", include("ledger.urls")),
    path("", include("indicators.urls")),
    path("reporting/", include("reporting.urls")),
    # Every background job (report compiles, application-record imports): one page, one status endpoint.
    path("jobs/<int:pk>/", job_views.job_page, name="job"),
    path("jobs/<int:pk>/status/", job_views.job_status, name="job-status"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
]
