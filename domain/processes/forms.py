"""A kind's declared fields (registry.FormField) as people fill them in on a page: what each form
value means (a case number → the case, "1" → yes, one clerk a line → a list), every missing or
malformed field reported at once, and the rows of a CSV or Excel file read as records of the same
fields. The kind's own function still validates what it receives; this only reads the form.
"""
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from domain.errors import DomainError, InvalidInput, raise_all
from domain.orders import overview as order_overview
from domain.processes.registry import FormField
from domain.timeutil import SHANGHAI
from domain.units.models import Unit
from domain.units.tree import in_tree_order
from domain.users.models import User

LIST_SPLIT = re.compile(r"[\n\r,，、;；]+")
MAX_ROWS = 2000


@dataclass(frozen=True)
class UnitChoice:
    unit: Unit
    depth: int


def unit_choices(session: Session, form_field: FormField) -> list[UnitChoice]:
    """The units a unit field offers: the kinds its hints name (all units when none), in tree order."""
    kinds = form_field.hints.get("unit_kinds")
    return [UnitChoice(u, d) for u, d in in_tree_order(session=session, kinds=set(kinds) if kinds else None)]


def _missing(f: FormField) -> InvalidInput:
    return InvalidInput(f"{f.name}_required", f"请填写{f.label_zh}", f"{f.label_en} is required", field=f.name)


def _id(raw: str, f: FormField) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInput(f"bad_{f.name}", f"请选择{f.label_zh}", f"choose the {f.label_en.lower()}", field=f.name)
    return int(raw)


def _when(raw: str, f: FormField) -> date | datetime:
    try:
        if f.type == "date":
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), SHANGHAI)
        moment = datetime.fromisoformat(raw)
        return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    except ValueError:
        example = "2026年12月09日" if f.type == "date" else "2026年12月09日 09:30"
        raise InvalidInput(f"bad_{f.name}", f"{f.label_zh}格式不对，应如 {example}",
                           f"{f.label_en}: not a date", field=f.name) from None


def _value(session: Session, actor: User, f: FormField, raw: object):
    """One field's value as the kind's function takes it; None when left empty."""
    if f.type in ("unit_list", "choice_list"):
        items = [str(v).strip() for v in (raw if isinstance(raw, list) else [raw]) if str(v or "").strip()]
        return [_id(v, f) for v in items] if f.type == "unit_list" else items
    text = str(raw or "").strip()
    if f.type == "text_list":
        return [part.strip() for part in LIST_SPLIT.split(text) if part.strip()]
    if not text:
        return None
    if f.type == "unit":
        return _id(text, f)
    if f.type == "unit_or_code":
        return int(text) if text.isdigit() and len(text) <= 12 else text
    if f.type == "case":
        found = order_overview.case_by_number(session=session, actor=actor, case_number=text)
        return found.id
    if f.type == "bool":
        if text not in ("1", "0"):
            raise InvalidInput(f"bad_{f.name}", f"请选择{f.label_zh}：是或否", f"{f.label_en}: yes or no", field=f.name)
        return text == "1"
    if f.type in ("date", "datetime"):
        return _when(text, f)
    return text


def read(session: Session, actor: User, fields: tuple[FormField, ...], form: dict) -> dict:
    """The form's values by field name, or InvalidFields naming every field at fault."""
    values, errors = {}, []
    for f in fields:
        try:
            value = _value(session, actor, f, form.get(f.name))
        except DomainError as exc:
            exc.field = f.name  # a case number the office typed is this field's error
            errors.append(exc)
            continue
        if f.required and value in (None, [], ""):
            errors.append(_missing(f))
        elif value is not None or f.type.endswith("_list"):
            values[f.name] = value
    raise_all(errors)
    return values


# ---- a file of records ----

def _header_names(fields: tuple[FormField, ...], header: list[str]) -> list[str | None]:
    by_label = {f.label_zh: f.name for f in fields} | {f.name: f.name for f in fields} | \
        {f.label_en.lower(): f.name for f in fields}
    return [by_label.get(str(h or "").strip()) or by_label.get(str(h or "").strip().lower()) for h in header]


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _table(filename: str, data: bytes) -> list[list[object]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            return [list(row) for _, row in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True))]
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise InvalidInput("bad_table_file", "无法读取该Excel文件，请另存为 .xlsx 或 CSV 后再上传",
                               "the Excel file could not be read: save it as .xlsx or CSV", field="file") from None
    if filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return list(csv.reader(io.StringIO(data.decode(encoding))))[:MAX_ROWS + 1]
            except UnicodeDecodeError:
                continue
    raise InvalidInput("bad_table_file", "请上传 CSV 或 Excel（.xlsx）文件", "upload a CSV or Excel (.xlsx) file",
                       field="file")


def rows(fields: tuple[FormField, ...], filename: str, data: bytes) -> list[dict[str, str]]:
    """The file's records as form values (field name → text), one per non-empty row after the header."""
    table = [row for row in _table(filename, data) if any(_cell(c) for c in row)]
    if not table:
        raise InvalidInput("empty_table_file", "文件中没有数据", "the file holds no rows", field="file")
    names = _header_names(fields, list(table[0]))
    missing = [f.label_zh for f in fields if f.required and f.name not in names]
    if missing:
        raise InvalidInput("table_columns_missing", f"文件首行须有这些列：{'、'.join(missing)}",
                           f"the first row must name these columns: {', '.join(missing)}", field="file")
    return [{name: _cell(cell) for name, cell in zip(names, row) if name} for row in table[1:]]
