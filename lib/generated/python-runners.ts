// Generated from runners/python/*.py by `npm run generate` (python/blast_tasks/describe.py); do not edit.

/** What a class declares, as describe.py reports it (read as lib/runner.ts's PythonDeclaration). */
interface GeneratedDeclaration {
  readonly file: string;
  readonly className: string;
  readonly taskName?: string;
  readonly prerequisites?: Readonly<Record<string, string>>;
  readonly failedStatusMessage?: string;
  readonly settings?: Readonly<Record<string, number | boolean | string | readonly string[]>>;
  readonly problem?: string;
}

export const pythonRunnerDeclarations: readonly GeneratedDeclaration[] = [
  {
    "file": "runners/python/cutout_download.py",
    "className": "ImageDownload",
    "taskName": "Cutout download",
    "prerequisites": {
      "Cutout download": "not processed"
    },
    "failedStatusMessage": "failed",
    "settings": {
      "memorySize": 1024,
      "timeoutSeconds": 120,
      "usesArtifacts": true
    }
  },
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
  },
  {
    "file": "runners/python/global_aperture_construction.py",
    "className": "GlobalApertureConstruction",
    "taskName": "Global aperture construction",
    "prerequisites": {
      "Cutout download": "processed",
      "Transient MWEBV": "processed",
      "Host match": "processed",
      "Host information": "processed",
      "Global aperture construction": "not processed"
    },
    "failedStatusMessage": "failed",
    "settings": {
      "timeoutSeconds": 120,
      "readsArtifacts": true
    }
  },
  {
    "file": "runners/python/global_aperture_photometry.py",
    "className": "GlobalAperturePhotometry",
    "taskName": "Global aperture photometry",
    "prerequisites": {
      "Cutout download": "processed",
      "Transient MWEBV": "processed",
      "Host match": "processed",
      "Host information": "processed",
      "Global aperture construction": "processed",
      "Global aperture photometry": "not processed"
    },
    "failedStatusMessage": "failed",
    "settings": {
      "timeoutSeconds": 120,
      "readsArtifacts": true
    }
  },
  {
    "file": "runners/python/mwebv.py",
    "className": "TransientMWEBV",
    "taskName": "Transient MWEBV",
    "prerequisites": {
      "Cutout download": "processed",
      "Transient MWEBV": "not processed"
    },
    "failedStatusMessage": "failed",
    "settings": {
      "usesTransientFields": [
        "coordinates"
      ]
    }
  },
  {
    "file": "runners/python/mwebv.py",
    "className": "HostMWEBV",
    "taskName": "Host MWEBV",
    "prerequisites": {
      "Cutout download": "processed",
      "Transient MWEBV": "processed",
      "Host match": "processed",
      "Host information": "processed",
      "Host MWEBV": "not processed"
    },
    "failedStatusMessage": "failed",
    "settings": {
      "usesTransientFields": []
    }
  }
];

export const pythonSourceHashes: Readonly<Record<string, string>> = {
  "runners/python/cutout_download.py": "7ae4546001d84081102dac07c7a953067600d4f4216a443ed7a1e0abad024837",
  "runners/python/example_runner.py": "fb441c3f7d2665903410b72ba2842d191ad0af41f4528c0be5e1ca11c2ebbc79",
  "runners/python/global_aperture_construction.py": "67d586c633544138b0a024d2d82e8c7d3e2455a526351b03d799e9066c5b6318",
  "runners/python/global_aperture_photometry.py": "1388ae2236ca367be9bfec4597b1d8b7538606e422868197deeadf3a18f76eb2",
  "runners/python/mwebv.py": "a28037252b443f487dbdba617b6a1d64fdc5e5701aff166056e15fd66de86939"
};
