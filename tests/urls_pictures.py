"""The project's URLs plus the reporting ones, until config/urls.py includes them; then drop this."""
from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("reporting/", include("reporting.urls"))]
