"""The local runtime's stand-in for Lambda's Python runtime: one event at a time, over stdin and stdout.

Each line read is ``{"event": {...}}``; each line written is ``{"result": ...}`` or ``{"error": {"errorType",
"errorMessage", "stackTrace"}}``, as Lambda reports a function error. What the runner prints goes to stderr,
so it reaches the logs and never the protocol.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from blast_tasks.lambda_handler import handler


def main() -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"result": handler(json.loads(line)["event"])}
        except Exception as error:  # the run's failure, reported as Lambda reports it
            reply = {
                "error": {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error)[-5:],
                }
            }
        try:
            text = json.dumps(reply)
        except (TypeError, ValueError) as error:
            text = json.dumps({"error": {"errorType": "Runtime.MarshalError", "errorMessage": f"the result is not JSON: {error}", "stackTrace": []}})
        protocol.write(text + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
