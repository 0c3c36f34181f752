"""ASGI entry point: `uvicorn server.main:app`."""
import logging

from server.app import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
for noisy in ("httpx", "weasyprint", "fontTools"):
    logging.getLogger(noisy).setLevel(logging.WARNING)
app = create_app()
