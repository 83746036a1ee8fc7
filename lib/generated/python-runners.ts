// Generated from runners/python/*.py by `npm run generate` (python/blast_tasks/describe.py); do not edit.

export const pythonRunnerDeclarations = [
  {
    "file": "runners/python/example_runner.py",
    "className": "ExampleTaskRunner",
    "taskName": "Transient MWEBV",
    "prerequisites": {
      "Cutout download": "processed",
      "Transient MWEBV": "not processed"
    },
    "failedStatusMessage": "failed",
    "settings": {}
  }
];

export const pythonSourceHashes: Readonly<Record<string, string>> = {
  "runners/python/example_runner.py": "fb441c3f7d2665903410b72ba2842d191ad0af41f4528c0be5e1ca11c2ebbc79"
};
