"""Money is Decimal yuan at the edges and integer fen in the database; never float."""
import re
from decimal import Decimal, InvalidOperation

_WAN = Decimal(10000)


def parse_cny(raw: object) -> Decimal:
    """Read an amount as people write it: 280000, "280,000.00", "¥280000", "28万", "28万元".

    Raises ValueError with a reason a person can act on.
    """
    if isinstance(raw, bool) or raw is None:
        raise ValueError("amount is missing")
    if isinstance(raw, float):
        # JSON numbers arrive as float; their shortest repr is what the sender wrote.
        raw = repr(raw)
    text = str(raw).strip().replace(",", "").replace("，", "").replace(" ", "")
    text = text.removeprefix("¥").removeprefix("￥").removesuffix("元").removesuffix("人民币")
    multiplier = Decimal(1)
    if text.endswith("万"):
        text, multiplier = text[:-1], _WAN
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        raise ValueError(f"not a number: {raw!r}")
    try:
        amount = Decimal(text) * multiplier
    except InvalidOperation:
        raise ValueError(f"not a number: {raw!r}") from None
    return amount


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_wan(fen: int) -> str:
    """275万 → "275.00万元", as the office writes amounts."""
    return f"{(Decimal(fen) / 100 / _WAN).quantize(Decimal('0.01')):,}万元"
