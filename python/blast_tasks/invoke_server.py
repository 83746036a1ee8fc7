"""A Python runner's container run: the runner's handler behind Lambda's Invoke, on the loopback interface.

A runner with ``compute = "container"`` runs in a container of its own, for longer than Lambda allows. The claim,
heartbeats, settle, chaining and retries stay with the TypeScript run beside it (lib/engine/container-run.ts), which
calls this server exactly as a worker calls a Python runner's Lambda function: ``POST
/2015-03-31/functions/<name>/invocations`` with the run's event, answered with the handler's reply, or with a
function error (``X-Amz-Function-Error``, ``{"errorType", "errorMessage"}``) for what ``_run_process`` raised. There is
no timeout here: the run's own deadline is the TypeScript side's, which ends the container. ``GET /ping`` answers
once the runner's class has been imported (the container's health check).

``python -m blast_tasks.invoke_server PORT`` (0: any free port); it prints ``listening on <port>`` on its standard
output once it answers, and points file descriptor 1 at standard error from then on, so what the runner prints
reaches the log. It listens on 127.0.0.1 only, and serves one event at a time, as a container run has one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import traceback
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Dict, Tuple

from blast_tasks.lambda_handler import _loaded, handler

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/[^/]+/invocations$")


def invoke(event: Any) -> Tuple[Dict[str, str], Any]:
    """The handler's reply to one event, with the headers Lambda's Invoke gives it."""
    try:
        return {}, handler(event)
    except Exception as error:  # the run's failure, reported as Lambda reports it
        return {"X-Amz-Function-Error": "Unhandled"}, {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_exception(error)[-5:],
        }


class InvokeHandler(BaseHTTPRequestHandler):
    def _answer(self, status: int, payload: Any, headers: Dict[str, str]) -> None:
        try:
            body = json.dumps(payload).encode("utf-8")
        except (TypeError, ValueError) as error:
            headers = {"X-Amz-Function-Error": "Unhandled"}
            body = json.dumps({"errorType": "Runtime.MarshalError", "errorMessage": f"the result is not JSON: {error}"}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/ping":
            self._answer(200, {"ok": True}, {})
        else:
            self._answer(404, {"message": f"not found: {self.path}"}, {})

    def do_POST(self) -> None:  # noqa: N802
        if not INVOKE_PATH.match(self.path.split("?")[0]):
            self._answer(404, {"Type": "User", "message": f"Function not found: {self.path}"}, {})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            event = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            self._answer(400, {"Type": "User", "message": "Could not parse request body into json"}, {})
            return
        headers, reply = invoke(event)
        self._answer(200, reply, headers)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        sys.stderr.write("invoke_server: " + (format % args) + "\n")


def main(argv: list) -> None:
    port = int(argv[1]) if len(argv) > 1 else 8080
    # The runner's class is imported before the server answers: a file that does not import fails the start.
    _loaded()
    # As its container's first process, it would otherwise ignore the SIGTERM that stops the task.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = HTTPServer(("127.0.0.1", port), InvokeHandler)
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    protocol.write(f"listening on {server.server_address[1]}\n")
    protocol.flush()
    protocol.close()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
