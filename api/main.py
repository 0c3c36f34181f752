"""ASGI entry point: `uvicorn api.main:app`."""
import logging

from api.app import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
for noisy in ("httpx", "weasyprint", "fontTools"):
    logging.getLogger(noisy).setLevel(logging.WARNING)
app = create_app()
