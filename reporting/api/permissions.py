from accounts.api.permissions import HasPerm
from reporting.selectors import REPORT_READERS_ONLY

# The pages' rule: the statistics tables are for province officials, the national level and regulators.
ReportReader = HasPerm.of("reporting.read_reports", REPORT_READERS_ONLY)
