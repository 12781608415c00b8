from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("pictures/", views.pictures, name="pictures"),
    path("", views.reports, name="reports"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/status/", views.job_status, name="job-status"),
    path("snapshots/<int:pk>/", views.snapshot, name="snapshot"),
    path("snapshots/<int:pk>/download/", views.snapshot_download, name="snapshot-download"),
    path("benefits/", views.benefits, name="benefits"),
]
