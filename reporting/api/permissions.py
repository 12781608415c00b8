from rest_framework.permissions import BasePermission

from reporting.selectors import REPORT_READERS_ONLY, is_report_reader


class ReportReader(BasePermission):
    """The pages' rule: the statistics tables are for province officials, the national level and regulators."""

    message = REPORT_READERS_ONLY

    def has_permission(self, request, view):
        return is_report_reader(request.user)
