"""What both faces (`api/` JSON, `web/` pages) need of HTTP and nothing else: the request's
database session, row id types, the engine lookup. Neither face imports the other; both import
this. It knows no face and no route."""
