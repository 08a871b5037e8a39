"""Schemathesis hooks for tthc's contract run: NDJSON bodies (the bulk endpoints) as one JSON
object per line, and no change to the run's own client (which would revoke its token)."""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


# The run's own client. A change to it (a new secret, other scopes, disabling, deletion) revokes
# the run's token, and every later request would be answered 401: the rest of the run would
# test nothing. Such a change is sent to a client that does not exist instead (404).
OWN_CLIENT = "admin"


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if (
        "/clients/{id}" in case.operation.path
        and case.method.upper() != "GET"
        and (case.path_parameters or {}).get("id") == OWN_CLIENT
    ):
        case.path_parameters["id"] = "not-the-run-s-own-client"
