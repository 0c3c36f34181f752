"""Money is Decimal yuan at the edges and integer fen in the database; never float."""
import re
import unicodedata
from decimal import Decimal

_WAN = Decimal(10000)
_UNITS = {"万": _WAN, "萬": _WAN, "亿": Decimal(10) ** 8, "億": Decimal(10) ** 8}
# 1万亿元: far above any real case, stop-payment or freeze, and its fen fit a 64-bit integer.
MAX_CNY = Decimal(10) ** 12
# Digits in groups of three when commas are used, a decimal point, nothing else (no 1e5, NaN, 0x…).
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


class AmountError(ValueError):
    """An amount that cannot be read unambiguously; `zh` says why, for the person who typed it."""

    def __init__(self, zh: str, en: str, code: str = "amount_not_numeric"):
        super().__init__(en)
        self.zh, self.code = zh, code


def parse_cny(raw: object, label: str = "金额") -> Decimal:
    """Read an amount as people write it: 280000, "280,000.00", "¥280000", "28万", "28万元", "0.5亿",
    full-width "２８０，０００". Refused (AmountError, with the reason in Chinese): anything that is not
    plainly a number — exponents, NaN, infinity, other scripts' digits — and commas that are not
    thousands separators ("28.000,50", "2,80,000": which number was meant?), and amounts above
    1万亿元."""
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise AmountError(f"{label}不能为空", "amount is missing")
    if isinstance(raw, float):
        # JSON numbers arrive as float; their shortest repr is what the sender wrote.
        raw = repr(raw)
    # NFKC turns full-width digits, "，", "．" and "￥" into their ASCII forms.
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(raw)))
    text = text.removeprefix("¥").removesuffix("人民币").removesuffix("元")
    multiplier = Decimal(1)
    if text[-1:] in _UNITS:
        text, multiplier = text[:-1], _UNITS[text[-1]]
    if not _NUMBER.fullmatch(text):
        if re.fullmatch(r"[+-]?[0-9][0-9.,]*", text) and "," in text:
            raise AmountError(f"{label}“{raw}”的分隔符有歧义：千位用逗号（每三位一组）、小数用点，如 280,000.50",
                              f"ambiguous separators in {raw!r}: use commas between groups of three and a point",
                              "amount_ambiguous")
        raise AmountError(f"{label}“{raw}”不是数字：请只写数字，如 280000.00、280,000 或 28万",
                          f"not a number: {raw!r}")
    digits = text.replace(",", "").lstrip("+-")
    if len(digits.split(".")[0].lstrip("0")) > 13:
        raise AmountError(f"{label}“{raw}”超过1万亿元，请核对是否录入有误", f"amount {raw!r} is above 10^12 CNY", "amount_absurd")
    amount = Decimal(text.replace(",", "")) * multiplier
    if multiplier != 1 and amount == amount.quantize(Decimal("0.01")):
        amount = amount.quantize(Decimal("0.01"))  # 28.123万 is 281230.00, not 281230.000
    if abs(amount) > MAX_CNY:
        raise AmountError(f"{label}“{raw}”超过1万亿元，请核对是否录入有误", f"amount {raw!r} is above 10^12 CNY", "amount_absurd")
    return amount


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_wan(fen: int) -> str:
    """275万 → "275.00万元", as the office writes amounts."""
    return f"{(Decimal(fen) / 100 / _WAN).quantize(Decimal('0.01')):,}万元"
