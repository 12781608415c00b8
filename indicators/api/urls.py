from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("indicator-sets", views.IndicatorSetViewSet, basename="indicator-set")
router.register("programs", views.ProgramViewSet, basename="program")
router.register("periods", views.PeriodViewSet, basename="period")

REGION = "periods/<str:code>/regions/<str:region_code>/"

urlpatterns = [
    *router.urls,
    path("indicator-sets/<str:code>/indicators/", views.IndicatorListView.as_view(), name="indicator-list"),
    path("periods/<str:code>/regions/", views.RegionStateListView.as_view(), name="region-state-list"),
    path(REGION, views.RegionStateView.as_view(), name="region-state-detail"),
    path(f"{REGION}checkmarks/", views.CheckmarksView.as_view(), name="checkmarks"),
    path(f"{REGION}service-levels/", views.ServiceLevelsView.as_view(), name="service-levels"),
    path(f"{REGION}checkmarks/<int:number>/evidence/", views.EvidenceUploadView.as_view(), name="checkmark-evidence"),
    *(path(f"{REGION}{name}/", views.review_action_view(name), name=f"review-{name}") for name in views.REVIEW_ACTIONS),
]
