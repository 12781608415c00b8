from django.urls import path

from . import views, views_applications, views_blocking, views_levels, views_programs, views_promises

app_name = "indicators"

urlpatterns = [
    path("periods/switch/", views.period_switch_view, name="period-switch"),
    path("periods/<str:code>/sheet/<str:region_code>/", views.sheet_view, name="sheet"),
    path("periods/<str:code>/review/<str:region_code>/", views.review_view, name="review"),
    path("periods/<str:code>/province/<str:region_code>/", views.province_view, name="province"),
    path("periods/<str:code>/history/<str:region_code>/", views.history_view, name="history"),
    path("periods/<str:code>/promises/<str:region_code>/", views_promises.promises_view, name="promises"),
    path("periods/<str:code>/blocking/<str:region_code>/", views_blocking.blocking_view, name="blocking"),
    path("periods/<str:code>/act/<str:region_code>/", views.action_view, name="act"),
    path("periods/<str:code>/programs/<str:region_code>/", views_programs.programs_view, name="programs"),
    path("evidence/<int:pk>/", views.evidence_view, name="evidence"),
    path("periods/<str:code>/applications/<str:region_code>/", views_applications.applications_view, name="applications"),
    path(
        "periods/<str:code>/applications/<str:region_code>/upload/", views_applications.applications_upload_view, name="applications-upload"
    ),
    path("applications/batches/<int:pk>/", views_applications.batch_view, name="application-batch"),
    path("applications/batches/<int:pk>/status/", views_applications.batch_status, name="application-batch-status"),
    path("applications/template.xlsx", views_applications.template_view, name="applications-template"),
    path("periods/<str:code>/service-levels/<str:region_code>/", views_levels.service_levels_view, name="service-levels"),
]
