"""HTTP details of the service: JSON only, a bounded body, and refusals a person can act on.

An ASGI middleware around every POST:
- a body over MAX_BODY_BYTES gets 413 before anything parses it;
- a body not sent as `Content-Type: application/json` gets 415: BentoML would also take forms
  and multipart, which any web page can post to a local port without asking;
- a 4xx answer gets an `error` sentence naming each field and the fix, next to BentoML's `detail`;
- every refusal is passed to `on_reject(route, status, error)` (the inference log), and a failure
  there never holds the answer back.
"""

import json
import logging

MAX_BODY_BYTES = 2_000_000
MAX_LISTED = 5
logger = logging.getLogger("bentoml.requests")


def where(loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def describe(errors: list) -> str:
    """One sentence for pydantic's list of errors."""
    parts = []
    for error in errors[:MAX_LISTED]:
        kind, message = error.get("type", ""), error.get("msg", "")
        if kind == "missing":
            message = "is missing; every feature is required (send null only where schema.yaml allows it)"
        elif kind == "extra_forbidden":
            message = "is not a feature of this model; check the spelling (names as in schema.yaml)"
        parts.append(f"{where(error.get('loc', ()))}: {message}")
    if len(errors) > MAX_LISTED:
        parts.append(f"and {len(errors) - MAX_LISTED} more")
    return "; ".join(parts)


def readable(body: bytes) -> tuple[bytes, str]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return body, body.decode("utf-8", "replace").strip()
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("detail"), list):
        data = {"error": describe(data["detail"]), "detail": data["detail"]}
    error = str(data.get("error", "")) if isinstance(data, dict) else str(data)
    return json.dumps(data, ensure_ascii=False).encode(), error


class RequestLimits:
    def __init__(self, app, on_reject=None, max_body_bytes: int = MAX_BODY_BYTES):
        self.app, self.on_reject, self.max_body_bytes = app, on_reject, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        route = scope.get("path", "")
        types = [v.decode("latin-1").split(";")[0].strip().lower()
                 for k, v in scope.get("headers") or [] if k.lower() == b"content-type"]
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return await self._refuse(route, 413, f"the request body is more than {self.max_body_bytes:,} "
                                          f"bytes; send at most 1,000 rows per request", send)
            if not message.get("more_body", False):
                break
        if types != ["application/json"]:
            return await self._refuse(route, 415, "this service takes JSON only: send the header "
                                      "Content-Type: application/json and a JSON body", send)
        body, replayed, held = b"".join(chunks), [False], {}

        async def replay():
            if not replayed[0]:
                replayed[0] = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message):
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                held["start"], held["body"] = message, []
                return None
            if message["type"] == "http.response.body" and "start" in held:
                held["body"].append(message.get("body", b""))
                if message.get("more_body", False):
                    return None
                new_body, error = readable(b"".join(held["body"]))
                start = held["start"]
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(new_body)).encode()))
                self._report(route, start["status"], error)
                await send({**start, "headers": headers})
                return await send({"type": "http.response.body", "body": new_body})
            return await send(message)

        await self.app(scope, replay, capture)

    def _report(self, route: str, status: int, error: str) -> None:
        if self.on_reject is None:
            return
        try:
            self.on_reject(route, status, error)
        except Exception:  # noqa: BLE001 - the refusal is answered anyway; the log says why
            logger.exception("a refused request (%s %s) could not be logged", status, route)

    async def _refuse(self, route: str, status: int, error: str, send):
        self._report(route, status, error)
        body = json.dumps({"error": error}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class QuietClientErrors(logging.Filter):
    """BentoML logs a traceback at ERROR for every request that fails validation: a client's
    mistake, already answered with a 400. Keep the server log for real errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pydantic import ValidationError

        error = record.exc_info[1] if record.exc_info else None
        status = getattr(getattr(error, "error_code", None), "value", 500)
        return not (isinstance(error, ValidationError) or status < 500)


def quiet_client_errors() -> None:
    logger = logging.getLogger("bentoml._internal.server.http_app")
    if not any(isinstance(f, QuietClientErrors) for f in logger.filters):
        logger.addFilter(QuietClientErrors())
