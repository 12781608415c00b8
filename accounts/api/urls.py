from django.urls import path
from rest_framework.routers import SimpleRouter

from .changes import ChangeFeedView
from .views import RegionViewSet
from .webhooks import WebhookEndpointViewSet

router = SimpleRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [*router.urls, path("changes/", ChangeFeedView.as_view(), name="changes")]
