"""The composition root: the JSON API (`api/`) and the web pages (`web/`) served as one ASGI app.
Neither face knows the other; only this package imports both."""
