"""The API's pagination: ?page=&page_size=, with a page size out of range refused rather than ignored.

Its own module: DRF's generic views import DEFAULT_PAGINATION_CLASS while they are being defined,
so it must not import them (utilities.api does).
"""

from rest_framework import exceptions, pagination
from rest_framework.settings import api_settings

MAX_PAGE_SIZE = 500


class PageNumberPagination(pagination.PageNumberPagination):
    """?page=&page_size=; a page_size that is not a whole number from 1 to the maximum is 400, not ignored."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_query_description = "页码，从 1 开始；超出范围返回 404。"
    page_size_query_description = f"每页条数，默认 {api_settings.PAGE_SIZE}，1 至 {MAX_PAGE_SIZE}；超出或不是整数返回 400。"
    invalid_page_message = "没有这一页（第 {page_number} 页）：{message}"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if not raw:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"每页条数“{raw[:40]}”无效：应为 1 至 {self.max_page_size} 之间的整数。"]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1, "maximum": self.max_page_size}
        return parameters

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "results"],
            "properties": {
                "count": {"type": "integer", "description": "符合条件的总条数。", "example": 123},
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "下一页的地址；已是最后一页时为 null。"},
                "previous": {"type": "string", "nullable": True, "format": "uri", "description": "上一页的地址；已是第一页时为 null。"},
                "results": {**schema, "description": "本页的记录。"},
            },
        }
