// Generated from runners/*.ts by `npm run generate`; do not edit.

/** Each TypeScript transient runner's source file and its SHA-256, by task: the code version of a runner that declares none. */
export const runnerSources: Readonly<Record<string, { readonly file: string; readonly sha256: string }>> = {
  "Cutout download": {
    "file": "runners/cutout-download.ts",
    "sha256": "792f5878ee621626b6e032e7635086b0eeba7a5884a7fbabf2b60ec9cb57f46b"
  },
  "Global aperture construction": {
    "file": "runners/global-aperture-construction.ts",
    "sha256": "417d466adf6a95d639fe839d98e203037bcbba21be9b71d09b6fd8e650a3b035"
  },
  "Global aperture photometry": {
    "file": "runners/global-aperture-photometry.ts",
    "sha256": "0ddfcfe96489a6d10898373aac6d80d2f7b0c4697812c763abe5b037d62a1e0a"
  },
  "Global host SED inference": {
    "file": "runners/global-host-sed-inference.ts",
    "sha256": "bb816fc7b8fe4fa609f4a52d16fa6d32b3e0136d1e13280df4738c38c9256b39"
  },
  "Host MWEBV": {
    "file": "runners/host-mwebv.ts",
    "sha256": "f1afb79fb9b2c846ea607794b3b38f8a626a9354bb3965e62dee93c3250ddff3"
  },
  "Host information": {
    "file": "runners/host-information.ts",
    "sha256": "28f3d135a794e4bb718bf4996885c8b437fd59af98b2ef881b72e1c0e920b6d9"
  },
  "Host match": {
    "file": "runners/host-match.ts",
    "sha256": "df29a8af2048446f161608ef9448a83ecaef75166610970bd7773934c1f96a77"
  },
  "Local aperture photometry": {
    "file": "runners/local-aperture-photometry.ts",
    "sha256": "76b327af2c68f01cf4d18fbe73161e3e6e271e37c5d0a9892c31f672ab366aa2"
  },
  "Local host SED inference": {
    "file": "runners/local-host-sed-inference.ts",
    "sha256": "9138577cbe79e60912563b8eb60f476f0b477d368da35aea9fe1eced8705c901"
  },
  "Transient MWEBV": {
    "file": "runners/transient-mwebv.ts",
    "sha256": "38dc685972a8400e97d41bb7327835fe97297a3e047719310329c9399eb474b4"
  },
  "Validate global photometry": {
    "file": "runners/validate-global-photometry.ts",
    "sha256": "605bdb77ae662ddf631ec495c0e423cc89faa3e58759d1177816ec789534a631"
  },
  "Validate local photometry": {
    "file": "runners/validate-local-photometry.ts",
    "sha256": "316f8a9494e66d6ec5d461c942a37374d3441568184dae75f2af08494d8be6f4"
  }
};
