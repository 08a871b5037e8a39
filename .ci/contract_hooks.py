"""Schemathesis hooks for tthc's contract run: NDJSON bodies (the bulk endpoints) as one JSON
object per line."""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()
