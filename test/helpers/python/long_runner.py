"""The Python twin of test/helpers/container-runners.ts's "Long": a runner whose runs happen in a container.

Each run writes a start file (its attempt, process id and run id) and works until the test releases its transient
(a file appears): how long it runs is the test's to decide.
"""

import json
import os
import time

from blast_tasks import TransientTaskRunner


class Long(TransientTaskRunner):
    task_name = "Long"
    compute = "container"
    heartbeat_seconds = 1
    timeout_seconds = 600
    max_receive_count = 2

    def _prerequisites(self):
        return {}

    def _run_process(self, transient):
        folder = os.environ["CONTAINER_TEST_DIR"]
        started = os.path.join(folder, f"{transient.name}.{self.context.attempt}.started")
        with open(started, "w", encoding="utf-8") as file:
            json.dump({"pid": os.getpid(), "runId": self.context.run_id}, file)
        print(f"fitting {transient.name}, attempt {self.context.attempt}")
        while not os.path.exists(os.path.join(folder, f"{transient.name}.release")):
            time.sleep(0.1)
        self.context.save({"attempt": self.context.attempt, "pid": os.getpid()})
        return "processed"
