"""What an uploaded file really is, found by parsing it, and the name it is served under.

The first bytes alone let `回执.hta`, `setup.exe` and `回执.pdf.lnk` through under their own names.
A PDF must open in pypdf with at least one page, an image must pass Pillow's verify; the served name
keeps the sender's words but always ends in the extension of the parsed type."""
import io
import logging
import warnings

EXTENSION = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
_PILLOW_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
MAX_IMAGE_PIXELS = 60_000_000  # a decompression bomb is refused, not decoded

log = logging.getLogger(__name__)


def _pdf(data: bytes) -> bool:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        return len(PdfReader(io.BytesIO(data), strict=False).pages) > 0
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on a broken file: all mean "not a PDF"
        return False


def _image(data: bytes) -> str | None:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = _PILLOW_FORMATS.get(image.format or "")
                image.verify()
                return kind
    except Exception:  # noqa: BLE001 - truncated, unknown or hostile: not an image we accept
        return None


def parsed_type(data: bytes) -> str | None:
    """application/pdf, image/png or image/jpeg if the content parses as that, else None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf" if _pdf(data) else None
    return _image(data)


def served_name(name: str, content_type: str) -> str:
    """`回执.pdf.lnk` → `回执_pdf.pdf`: the sender's words, the server's extension."""
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = stem.replace(".", "_").strip(" _") or "evidence"
    return stem[:190] + EXTENSION[content_type]
