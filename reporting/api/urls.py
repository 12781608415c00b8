from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("report-jobs", views.ReportJobViewSet, basename="report-job")
router.register("report-snapshots", views.ReportSnapshotViewSet, basename="report-snapshot")

urlpatterns = [
    *router.urls,
    path("benefits/", views.BenefitListView.as_view(), name="benefit-list"),
    path("benefits/<str:region_code>/<int:year>/<int:half>/", views.BenefitSheetView.as_view(), name="benefit-sheet"),
    path(
        "periods/<str:code>/regions/<str:region_code>/report-jobs/", views.ProvinceReportJobCreateView.as_view(), name="report-job-create"
    ),
    path("periods/<str:code>/report-jobs/", views.NationalReportJobCreateView.as_view(), name="report-job-create-national"),
    path("periods/<str:code>/regions/<str:region_code>/scorecard/", views.ScorecardView.as_view(), name="scorecard"),
]
