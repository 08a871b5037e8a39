"""Schemathesis hooks for tthc's contract run: NDJSON bodies (the bulk endpoints) as one JSON
object per line, no change to the run's own client (which would revoke its token), and one
`ast.parse` at a time."""
import ast
import functools
import json
import threading

import schemathesis

# CPython before 3.11.9/3.12.3 keeps the AST constructor's recursion depth in state shared by all
# threads (python/cpython#106905): two workers parsing at once, with a garbage collection running
# a finalizer in between, fail with "SystemError: AST constructor recursion depth mismatch".
# Hypothesis parses sources to describe lambdas, and with --workers 2 a CI run failed on that
# (a runtime error on one operation, no defect of tthc's). Parsing is serialized in this process.
_parse = ast.parse
_parse_lock = threading.Lock()


@functools.wraps(_parse)
def _parse_one_at_a_time(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time


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
