"""ASGI entry point: `uvicorn server.main:app`. Logs are JSON lines with the request id
(server/logs.py); LIANBAN_LOG_FORMAT=text keeps plain lines for a developer's terminal."""
import logging
import os

from server import logs
from server.app import create_app

if os.environ.get("LIANBAN_LOG_FORMAT", "json") == "json":
    logs.configure()
else:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("httpx", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
app = create_app()
