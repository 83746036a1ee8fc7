"""The local runtime's stand-in for Lambda's Python runtime: one event at a time, over stdin and stdout.

Each line read is ``{"id": n, "event": {...}}``; each line written is ``{"id": n, "result": ...}`` or ``{"id": n,
"error": {"errorType", "errorMessage", "stackTrace"}}``, as Lambda reports a function error. The replies go to a
copy of the original stdout; file descriptor 1 itself is pointed at stderr, so whatever the runner, its
subprocesses or C code print reaches the log and never the protocol.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from blast_tasks.lambda_handler import handler


def main() -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        reply: dict = {"id": request.get("id")}
        try:
            reply["result"] = handler(request["event"])
        except Exception as error:  # the run's failure, reported as Lambda reports it
            reply["error"] = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
        try:
            text = json.dumps(reply)
        except (TypeError, ValueError) as error:
            text = json.dumps({"id": request.get("id"), "error": {"errorType": "Runtime.MarshalError", "errorMessage": f"the result is not JSON: {error}", "stackTrace": []}})
        protocol.write(text + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
