"""Finding 10 of issue 16: the OpenAPI contract documents 400/401/403/404/409/422 on every API
operation (FastAPI's shape and RFC 9457 problem details), downloads are declared as binary, and a
caller asking for application/problem+json gets problem details."""
from tests.conftest import auth, case_body

PROBLEM = "application/problem+json"


def test_every_api_operation_documents_its_error_answers(client):
    schema = client.get("/openapi.json").json()
    assert "Problem" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "409", "422"):
                if (path, status) == ("/api/v1/verify/{code}", "404"):
                    continue  # not an error: the public look-up's "found": false, declared as such
                content = operation["responses"][status]["content"]
                assert {"application/json", PROBLEM} <= set(content), (method, path, status)


def test_downloads_are_declared_as_what_they_are(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/orders/{order_id}/pdf", "/api/v1/documents/{document_id}/pdf", "/api/v1/evidence/{evidence_id}"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert "application/json" not in content and "application/pdf" in content, path
        assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}


def test_problem_details_when_asked_for(client):
    missing = client.get("/api/v1/cases/999999", headers={**auth("office"), "Accept": PROBLEM})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    body = missing.json()
    assert body["status"] == 404 and body["title"] == "Not Found" and body["instance"] == "/api/v1/cases/999999"
    assert body["detail"] and body["errors"][0]["type"] == "case_not_found"
    invalid = client.post("/api/v1/cases", headers={**auth("office"), "Accept": PROBLEM}, json={"case_number": 5})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["loc"][0] == "body"
    anonymous = client.get("/api/v1/cases", headers={"Accept": PROBLEM})
    assert anonymous.status_code == 401 and anonymous.json()["type"] == "about:blank"


def test_the_default_shape_is_unchanged_for_existing_clients(client):
    duplicate = [client.post("/api/v1/cases", headers=auth("office"), json=case_body()) for _ in range(2)][1]
    assert duplicate.status_code == 422 and duplicate.headers["content-type"] == "application/json"
    assert duplicate.json()["detail"][0]["loc"] == ["body", "case_number"]
