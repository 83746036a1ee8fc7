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
    "sha256": "6ea915f53f89809589adcf718769a9451ae08f74bae2a670ff8f29a2a234c8f3"
  },
  "Global host SED inference": {
    "file": "runners/global-host-sed-inference.ts",
    "sha256": "bb816fc7b8fe4fa609f4a52d16fa6d32b3e0136d1e13280df4738c38c9256b39"
  },
  "Host information": {
    "file": "runners/host-information.ts",
    "sha256": "28f3d135a794e4bb718bf4996885c8b437fd59af98b2ef881b72e1c0e920b6d9"
  },
  "Host match": {
    "file": "runners/host-match.ts",
    "sha256": "b978803376d96084b5972447ba6f9cc47bb1992e2d6219b60ee644599e7f35a3"
  },
  "Local aperture photometry": {
    "file": "runners/local-aperture-photometry.ts",
    "sha256": "76b327af2c68f01cf4d18fbe73161e3e6e271e37c5d0a9892c31f672ab366aa2"
  },
  "Local host SED inference": {
    "file": "runners/local-host-sed-inference.ts",
    "sha256": "9138577cbe79e60912563b8eb60f476f0b477d368da35aea9fe1eced8705c901"
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
