"""/api/: the REST API (v1), its OpenAPI schema and Swagger UI, and the portal page for client tokens."""

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from accounts import views_tokens


@extend_schema(exclude=True)
class UnknownEndpoint(APIView):
    """Any other path under /api/v1/: a 404 in the API's error shape, not the portal's HTML page."""

    permission_classes = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound(f"没有这个接口：{request.method} {request.path}。接口说明见 /api/docs/。")


v1 = [
    path("", include("accounts.api.urls")),
    path("", include("indicators.api.urls")),
    path("", include("reporting.api.urls")),
    path("", include("ledger.api.urls")),
    re_path(r"", UnknownEndpoint.as_view()),  # "" matches any rest of the path, new lines included
]

urlpatterns = [
    path("v1/", include((v1, "api"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("tokens/", views_tokens.tokens_view, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views_tokens.token_revoke_view, name="api_token_revoke"),
]
