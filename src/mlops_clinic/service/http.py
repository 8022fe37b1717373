"""HTTP details of the services: a bounded request body, and error bodies a person can act on.

BentoML already answers a request that breaks the schema with HTTP 400 and pydantic's list of
errors. This ASGI middleware adds these around every POST:

- a body larger than `max_body_bytes` gets 413 at once, before anything parses it (a 50 MB upload
  would otherwise be read, parsed and validated in full);
- a body that is not sent as JSON (`Content-Type: application/json`) gets 415 with a sentence
  that names the header to send. BentoML would also take forms, multipart and pickled Python
  objects: a web page can post the first two from any site without asking (CORS "simple
  requests"), and unpickling runs code. Pickle is taken only through a Unix socket, the private
  hop between the prediction service and its model server (sockets.py keeps it private);
- a 4xx answer gets an `error` sentence that names each field and the fix, e.g.
  `house.mainroad: 'YES' is not accepted: write exactly 'yes' or 'no' ...`, next to BentoML's
  `detail` list (kept as it is for programs).

`on_reject(path, status, error, body)` is called for every 4xx answer, before it is sent: the
prediction service uses it to log refused requests in the inference log. If it fails, the answer
is sent all the same and the failure goes to the server log.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Callable

MAX_BODY_BYTES = 1_000_000  # about 4,000 houses of JSON; a batch is limited to 1,000 anyway
MAX_LISTED = 5  # field errors spelled out in one message; the rest are counted
JSON = "application/json"
PICKLE = "application/vnd.bentoml+pickle"  # BentoML's format between its own services

logger = logging.getLogger("bentoml.requests")

FRIENDLIER = {
    "missing": "is missing; every feature is required (the model was trained without gaps)",
    "extra_forbidden": "is not one of the model's features; check the spelling",
    "int_type": "must be a whole number, e.g. 3 (not text, a decimal or true/false)",
    "int_from_float": "must be a whole number, e.g. 3 (not a decimal)",
    "too_short": "is empty; send at least one",
    "model_type": "must be a JSON object of feature names and values",
    "list_type": "must be a JSON list",
}


class QuietClientErrors(logging.Filter):
    """BentoML logs a full traceback at ERROR for every request that fails validation. A bad
    request is the client's mistake, answered with a 400 and counted in the access log: drop
    those tracebacks so the server log keeps real errors visible."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pydantic import ValidationError

        error = record.exc_info[1] if record.exc_info else None
        status = getattr(getattr(error, "error_code", None), "value", 500)
        return not (isinstance(error, ValidationError) or status < 500)


def quiet_client_errors() -> None:
    """Install QuietClientErrors on the logger BentoML uses for failed requests (idempotent)."""
    logger = logging.getLogger("bentoml._internal.server.http_app")
    if not any(isinstance(f, QuietClientErrors) for f in logger.filters):
        logger.addFilter(QuietClientErrors())


# BentoML sends pydantic's errors without their context or input, so the limits are read back from
# pydantic's own message ("Input should be less than or equal to 16000") and said plainly.
BOUNDS = {
    "greater_than_equal": (r"greater than or equal to (\S+)", "must be at least {}"),
    "less_than_equal": (r"less than or equal to (\S+)", "must be at most {}"),
    "literal_error": (r"^Input should be (.+)$", "must be exactly {}"),
    "too_long": (r"at most (\d+) items.*, not (\d+)$",
                 "has {1} items, and at most {0} are taken in one request: split it into "
                 "smaller batches"),
}


def readable_number(text: str) -> str:
    """'16000' -> '16,000'; anything else as it is."""
    return f"{int(text):,}" if text.lstrip("-").isdigit() else text


def bound(kind: str, msg: str) -> str:
    """A limit pydantic reported, in words; pydantic's message if it cannot be read."""
    pattern, sentence = BOUNDS[kind]
    found = re.search(pattern, msg)
    if found is None:
        return msg
    return sentence.format(*(readable_number(group) for group in found.groups()))


def where(loc) -> str:
    """('houses', 3, 'mainroad') -> 'houses[3].mainroad'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def describe(errors: list[dict[str, Any]]) -> str:
    """One sentence for a list of pydantic errors (as BentoML returns them in `detail`)."""
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e.get("msg", "") for e in errors if e.get("type") == "json_invalid")
        too_deep = "recursion limit" in reason
        problem = "nests lists or objects too deeply" if too_deep else "is not valid JSON"
        return (f"the request body {problem} ({reason}); send a JSON object such as "
                '{"house": {"area": 4600, ...}} with Content-Type: application/json')
    parts = []
    for e in errors[:MAX_LISTED]:
        kind, msg = e.get("type", ""), e.get("msg", "")
        loc = e.get("loc", ())
        if kind in BOUNDS:
            msg = bound(kind, msg)
            if kind == "too_long" and "split it" not in msg:
                msg = f"{msg}; split it into smaller batches"
        elif kind == "extra_forbidden" and len(loc) == 1:
            msg = "is not a field of this request; check the spelling"
        elif kind == "missing" and len(loc) == 1:
            msg = "is missing from the request body"
        elif kind == "model_type" and not loc:
            msg = 'must be a JSON object, e.g. {"house": {"area": 4600, ...}}'
        else:
            msg = FRIENDLIER.get(kind, msg)
        parts.append(f"{where(loc)}: {msg}")
    if len(errors) > MAX_LISTED:
        parts.append(f"and {len(errors) - MAX_LISTED} more")
    return "; ".join(parts)


def clearer(body: bytes) -> tuple[bytes, str]:
    """(new body, error sentence) for a 4xx JSON body from BentoML."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        text = body.decode("utf-8", "replace").strip()
        return body, text
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]  # BentoML wraps some 4xx bodies in a list
    if isinstance(data, dict) and isinstance(data.get("detail"), list):
        data = {"error": describe(data["detail"]), "detail": data["detail"]}
    error = str(data.get("error", "")) if isinstance(data, dict) else str(data)
    return json.dumps(data).encode(), error


def media_types(scope) -> list[str]:
    """The request's Content-Type values, without parameters, in lower case."""
    return [value.decode("latin-1").split(";")[0].strip().lower()
            for key, value in scope.get("headers") or [] if key.lower() == b"content-type"]


def through_unix_socket(scope) -> bool:
    """True if the connection came through a Unix socket: the ASGI server then names no port."""
    server = scope.get("server")
    return bool(server) and len(server) == 2 and server[1] is None


def unaccepted_type(scope) -> str | None:
    """Why the request's body is refused for its Content-Type (a sentence), or None."""
    types = media_types(scope)
    if types == [JSON] or (types == [PICKLE] and through_unix_socket(scope)):
        return None
    if len(types) > 1:
        sent = f"with {len(types)} Content-Type headers"
    elif not types:
        sent = "without a Content-Type header"
    else:
        sent = f"as {types[0]}"
    return (f"the request body was sent {sent}; this service takes JSON only: send the header "
            "Content-Type: application/json (and a JSON body)")


def forget_metrics_of_earlier_apps() -> None:
    """BentoML registers its Prometheus metrics in the process-wide registry when an app answers
    its first request, so a second app of a service in the same process (a notebook cell run
    again, a test suite) fails with "Duplicated timeseries". Served, there is one app per process
    and nothing to forget; in-process, the newest app's metrics replace the older ones."""
    try:
        from prometheus_client import REGISTRY
    except ImportError:
        return
    names_of = getattr(REGISTRY, "_collector_to_names", {})
    for collector, names in list(names_of.items()):
        if any(name.startswith("bentoml_") for name in names):
            REGISTRY.unregister(collector)


class RequestLimits:
    """ASGI middleware: 413 for bodies over the limit, 415 for bodies that are not JSON, readable
    4xx bodies, `on_reject` hook."""

    def __init__(self, app, max_body_bytes: int = MAX_BODY_BYTES,
                 on_reject: Callable[[str, int, str, bytes], None] | None = None):
        forget_metrics_of_earlier_apps()  # built once per app, before its first request
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.on_reject = on_reject

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return await self._too_large(path, int(declared), send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return await self._too_large(path, size, send, at_least=True)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refused_type = unaccepted_type(scope)
        if refused_type is not None:
            return await self._refuse(path, 415, refused_type, body, send)
        sent_body = False

        async def replay():
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        start: dict | None = None
        held: list[bytes] = []

        async def capture(message):
            nonlocal start
            if message["type"] == "http.response.start":
                if 400 <= message["status"] < 500:
                    start = message  # hold it: the body is rewritten, its length changes
                    return
                return await send(message)
            if message["type"] == "http.response.body" and start is not None:
                held.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                new_body, error = clearer(b"".join(held))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(new_body)).encode()))
                self._report(path, start["status"], error, body)
                await send({**start, "headers": headers})
                return await send({"type": "http.response.body", "body": new_body})
            return await send(message)

        await self.app(scope, replay, capture)

    def _report(self, path: str, status: int, error: str, body: bytes) -> None:
        """Call on_reject; a failure there must not keep the caller waiting for the answer."""
        if self.on_reject is None:
            return
        try:
            self.on_reject(path, status, error, body)
        except Exception:  # noqa: BLE001 - the refusal is answered anyway; the server log says why
            logger.exception("A refused request (%s %s) could not be logged", status, path)

    async def _too_large(self, path: str, size: int, send, at_least: bool = False):
        error = (f"the request body is {'more than ' if at_least else ''}{size:,} bytes; the limit "
                 f"is {self.max_body_bytes:,}. Send at most 1,000 houses per request.")
        await self._refuse(path, 413, error, b"", send)

    async def _refuse(self, path: str, status: int, error: str, body: bytes, send):
        """Answer `status` with `error`, without calling the app."""
        self._report(path, status, error, body)
        answer = json.dumps({"error": error}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(answer)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": answer})
