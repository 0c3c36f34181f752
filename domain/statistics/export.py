"""The dashboard as a table people take away: CSV (UTF-8 with a byte-order mark, so Excel reads
the Chinese right) and an .xlsx workbook. Money is in yuan with two decimals; changes in percent."""
import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from domain.money import from_fen
from domain.statistics.service import Dashboard, Metric

HEADINGS = {
    "zh": {"unit": "统计单位", "period": "统计区间", "previous": "环比区间", "year_before": "同比区间",
           "metric": "指标", "value": "本期", "mom_value": "上期", "mom": "环比（%）", "yoy_value": "去年同期",
           "yoy": "同比（%）", "month": "月份", "money": "（元）", "summary": "汇总", "series": "逐月"},
    "en": {"unit": "Unit", "period": "Period", "previous": "Month-on-month period", "year_before": "Year-on-year period",
           "metric": "Figure", "value": "This period", "mom_value": "Previous period", "mom": "Month-on-month (%)",
           "yoy_value": "A year earlier", "yoy": "Year-on-year (%)", "month": "Month", "money": " (CNY)",
           "summary": "Summary", "series": "By month"},
}


def _label(metric: Metric, language: str) -> str:
    words = HEADINGS[language]
    name = metric.zh if language == "zh" else metric.en
    return name + words["money"] if metric.money else name


def _value(metric: Metric, value: int) -> int | Decimal:
    return from_fen(value) if metric.money else value


def _span(period) -> str:
    return f"{period.start.isoformat()} ~ {period.end.isoformat()}"


def tables(board: Dashboard, language: str = "zh") -> tuple[list[list], list[list]]:
    """(the summary with its heading lines, the monthly series): rows of plain values."""
    words = HEADINGS["en" if language == "en" else "zh"]
    language = "en" if language == "en" else "zh"
    summary: list[list] = [
        [words["unit"], board.unit.name], [words["period"], _span(board.period)],
        [words["previous"], _span(board.previous)], [words["year_before"], _span(board.year_before)], [],
        [words["metric"], words["value"], words["mom_value"], words["mom"], words["yoy_value"], words["yoy"]],
    ]
    for row in board.rows:
        summary.append([_label(row.metric, language), _value(row.metric, row.value),
                        _value(row.metric, row.month_on_month.previous), row.month_on_month.percent,
                        _value(row.metric, row.year_on_year.previous), row.year_on_year.percent])
    metrics = [row.metric for row in board.rows]
    series: list[list] = [[words["month"], *(_label(m, language) for m in metrics)]]
    for index, month in enumerate(board.months):
        series.append([month, *(_value(m, board.series[m.key][index]) for m in metrics)])
    return summary, series


def to_csv(board: Dashboard, language: str = "zh") -> bytes:
    summary, series = tables(board, language)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in summary + [[]] + series:
        writer.writerow(["" if value is None else value for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(board: Dashboard, language: str = "zh") -> bytes:
    summary, series = tables(board, language)
    words = HEADINGS["en" if language == "en" else "zh"]
    book = Workbook()
    first = book.active
    first.title = words["summary"]
    for row in summary:
        first.append([float(v) if isinstance(v, Decimal) else v for v in row])
    second = book.create_sheet(words["series"])
    for row in series:
        second.append([float(v) if isinstance(v, Decimal) else v for v in row])
    for sheet, header_row in ((first, 6), (second, 1)):
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 22
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filename(board: Dashboard, extension: str) -> str:
    return f"statistics-{board.unit.code}-{board.period.start.isoformat()}-{board.period.end.isoformat()}.{extension}"


def render(board: Dashboard, format: str, language: str) -> tuple[bytes, str, str]:
    """(body, media type, file name) of the download, for the API and the web page alike."""
    if format == "xlsx":
        return to_xlsx(board, language), XLSX_TYPE, filename(board, "xlsx")
    return to_csv(board, language), "text/csv; charset=utf-8", filename(board, "csv")
