"""Finding 2 of issue 16: a large body from someone not signed in is refused before anything reads
it (413 on the declared length, or where the stream crosses the cap); the cheap checks (cookie,
CSRF header, route) come before any body is read; a refused large input is not echoed back."""
import asyncio

import httpx
import pytest

from httpkit.body_limit import ANONYMOUS_MAX_BYTES, BodyLimitMiddleware
from tests.conftest import auth
from tests.web_helpers import new_browser, signed_in

BIG = 2 * 1024 * 1024


def test_a_large_anonymous_post_is_refused_before_it_is_read(client):
    response = client.post("/login", content=b"x" * BIG,
                           headers={"Content-Type": "multipart/form-data; boundary=zzz"})
    assert response.status_code == 413 and len(response.content) < 1024


def test_an_anonymous_stream_is_cut_where_it_crosses_the_cap():
    """Chunked (no Content-Length): the middleware stops reading at the cap, the app never sees more."""
    seen = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    chunks = [{"type": "http.request", "body": b"x" * 4096, "more_body": True}] * 100
    sent = []

    async def receive():
        return chunks.pop()

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/login", "headers": []}
    asyncio.run(BodyLimitMiddleware(app)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert sum(seen) <= ANONYMOUS_MAX_BYTES and len(chunks) >= 100 - ANONYMOUS_MAX_BYTES // 4096 - 1


def test_without_a_cookie_the_csrf_check_reads_no_body(client):
    """No cookie, so no token can match: refused at once, whatever the body says."""
    response = client.post("/login", data={"username": "office", "password": "x", "csrf_token": "0" * 64})
    assert response.status_code == 403


def test_a_signed_in_person_may_still_send_a_large_upload(engine, city):
    browser = signed_in(engine, "office")
    response = browser.post("/login", content=b"x" * BIG, headers={"Content-Type": "application/octet-stream"})
    assert response.status_code != 413


def test_the_api_refuses_large_bodies_without_a_valid_token(client):
    response = client.post("/api/v1/warnings", content=b"[" + b"1," * BIG + b"1]",
                           headers={"Authorization": "Bearer not-a-token", "Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_refused_large_batch_is_not_echoed_back(client):
    items = [{"warning_number": "Y" * 50, "area": "nowhere", "risk_level": "extreme", "received_at": "x"}] * 5000
    response = client.post("/api/v1/warnings", headers=auth("office"), json={"warnings": items})
    assert response.status_code == 422
    assert len(response.content) < 20_000
