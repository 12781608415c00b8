from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("ledgers", views.LedgerViewSet, basename="ledger")
router.register("assignments", views.AssignmentViewSet, basename="assignment")

ITEM = "ledgers/<str:code>/items/<int:number>/"

urlpatterns = [
    *router.urls,
    path("ledgers/<str:code>/items/", views.LedgerItemListView.as_view(), name="ledger-item-list"),
    path(ITEM, views.LedgerItemView.as_view(), name="ledger-item-detail"),
    path(f"{ITEM}assignments/", views.AssignmentCreateView.as_view(), name="ledger-item-assign"),
    path("assignments/<int:pk>/progress/", views.ProgressView.as_view(), name="assignment-progress"),
    path("assignments/<int:pk>/review/", views.ReviewView.as_view(), name="assignment-review"),
    path("assignments/<int:pk>/press/", views.PressView.as_view(), name="assignment-press"),
]
