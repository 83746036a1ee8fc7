/**
 * An asset bundled here at synth (no Docker), with what the bundle depends on besides its source folder named in
 * `inputs`. CDK reuses a bundle made with equal options within one app, and compares the options as JSON, where a
 * function shows nothing: without its inputs, a second asset bundled from the same folder (another registry module,
 * another runner's file) would be given the first one's bundle.
 */
import type { ILocalBundling } from 'aws-cdk-lib';

export class LocalBundling implements ILocalBundling {
  constructor(
    readonly inputs: Readonly<Record<string, string>>,
    private readonly bundle: (outputDir: string) => void,
  ) {}

  tryBundle(outputDir: string): boolean {
    this.bundle(outputDir);
    return true;
  }
}
