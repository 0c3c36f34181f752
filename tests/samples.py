"""Small real files for uploads: evidence is parsed (pypdf, Pillow), so a few magic bytes no
longer pass for a PDF or an image."""
import io

from PIL import Image
from pypdf import PdfWriter


def pdf(size: int | None = None) -> bytes:
    """A one-page PDF; padded after %%EOF with spaces to exactly `size` bytes (boundary tests)."""
    out = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(out)
    data = out.getvalue()
    if size is not None:
        assert size > len(data) + 1, f"a PDF needs at least {len(data) + 2} bytes"
        data += b"\n" + b" " * (size - len(data) - 1)
    return data


def image(kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, kind)
    return out.getvalue()


PDF = pdf()
PNG = image("PNG")
JPEG = image("JPEG")
