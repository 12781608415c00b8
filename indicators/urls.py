from django.urls import path

from . import views

app_name = "indicators"

urlpatterns = [
    path("periods/<str:code>/sheet/<str:region_code>/", views.sheet_view, name="sheet"),
    path("periods/<str:code>/review/<str:region_code>/", views.review_view, name="review"),
    path("periods/<str:code>/province/<str:region_code>/", views.province_view, name="province"),
    path("periods/<str:code>/history/<str:region_code>/", views.history_view, name="history"),
    path("periods/<str:code>/act/<str:region_code>/", views.action_view, name="act"),
    path("evidence/<int:pk>/", views.evidence_view, name="evidence"),
]
