from django.urls import path

from . import views, views_import, views_scorecard

app_name = "reporting"

urlpatterns = [
    path("pictures/", views.pictures, name="pictures"),
    path("", views.reports, name="reports"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/status/", views.job_status, name="job-status"),
    path("snapshots/<int:pk>/", views.snapshot, name="snapshot"),
    path("snapshots/<int:pk>/download/", views.snapshot_download, name="snapshot-download"),
    path("export/<str:kind>/", views.export, name="export"),
    path("benefits/", views.benefits, name="benefits"),
    path("changes/", views.changes, name="changes"),
    path("import/attachment2/", views_import.import_attachment2, name="import-attachment2"),
    path("scorecard/", views_scorecard.scorecard, name="scorecard"),
    path("scorecard/reliability/", views_scorecard.reliability_entry, name="scorecard-reliability"),
]
