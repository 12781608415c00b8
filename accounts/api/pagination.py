from rest_framework import pagination
from rest_framework.settings import api_settings

MAX_PAGE_SIZE = 500


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_query_description = "页码，从 1 开始；超出范围返回 404。"
    page_size_query_description = f"每页条数，默认 {api_settings.PAGE_SIZE}，最多 {MAX_PAGE_SIZE}。"
    invalid_page_message = "没有这一页（第 {page_number} 页）：{message}"

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
