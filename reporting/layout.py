"""Where things stand in the official workbooks (1-based rows and columns, as openpyxl counts).

The Excel writer and the importer both read these, so a filled-in form comes back the way it went out.
"""

# The title, period and people rows are the house style's.
from utilities import excel as house

# 附件2 任务指标完成情况统计表
ATTACHMENT2_SHEET = "附件2"
TITLE_ROW = house.TITLE_ROW  # ××省“获得电力”任务指标完成情况统计表
PERIOD_ROW = house.PERIOD_ROW  # （2022年1月—2022年6月）
PEOPLE_ROW = house.PEOPLE_ROW  # 填报人及手机联系方式 / 审核人 / 填报日期
HEADER_TOP_ROW = 4  # 序号 | 省 | 地市 | 县 | 指标完成情况 | 省、地市、县指标完成情况
GROUP_ROW = 5  # 2020年指标 | 2021年指标 | 2022年指标 | 持续推进指标 | 完成个数 | 未完成个数 | 完成百分比
LABEL_ROW = 6  # 1 | 2 | … | *21 | … | *38
FIRST_DATA_ROW = 7  # the province row; then per city its row, county rows and 小计; then the statistics rows
COL_SERIAL, COL_PROVINCE, COL_CITY, COL_COUNTY = 1, 2, 3, 4
FIRST_INDICATOR_COL = 5
FOOT_TEXT = "填报单位盖章处"
STATISTICS_LABEL = "全省各指标的完成情况统计"


def summary_columns(indicator_count):
    """The columns of 完成个数, 未完成个数 and 完成百分比 after ``indicator_count`` indicator columns."""
    first = FIRST_INDICATOR_COL + indicator_count
    return first, first + 1, first + 2


def attachment2_title(province_name):
    return f"{province_name}“获得电力”任务指标完成情况统计表"


# 附件3 “三零”“三省”服务效益统计表
ATTACHMENT3_SHEET = "附件3"
A3_HEADER_TOP_ROW = 4  # 统计内容 | “三零”服务效益 | “三省”服务效益 | 合计
A3_HEADER_SUB_ROW = 5  # 居民用户 | 160kW及以下的企业用户 | 其他用户
A3_FIRST_DATA_ROW = 6  # 受益户数（户）, 节省投资（万元）, 增加售电量（万千瓦时）, 增加容量（万千瓦安）


def attachment3_title(province_name):
    return f"{province_name}“三零”“三省”服务效益统计表"


# 全国汇总
NATIONAL_SHEET = "全国汇总"


# Added with the Excel writer (reporting/excel.py); additions only, the constants above stay as they are.

people_segments = house.people_segments  # the 填报人, 审核人 and 填报日期 segments of the people row


def foot_row(last_table_row):
    """填报单位盖章处 stands in column 1 after one blank row below the table."""
    return last_table_row + 2


A3_COL_LABEL = 1  # 统计内容: 受益户数（户）…
A3_FIRST_VALUE_COL = 2  # 居民用户, 160kW及以下的企业用户, 其他用户, “三省”服务效益
A3_TOTAL_COL = 6  # 合计

# 全国汇总: no people row, so the two header rows start on row 3
NATIONAL_TITLE = "全国“获得电力”任务指标完成情况汇总表"
NATIONAL_HEADER_TOP_ROW = 3  # 序号 | 省 | 县个数 | 全部完成县个数 | 完成百分比 | 各指标完成县占比
NATIONAL_LABEL_ROW = 4  # the county indicators' labels under 各指标完成县占比
NATIONAL_FIRST_DATA_ROW = 5  # one row per province
NATIONAL_FIRST_INDICATOR_COL = 6
