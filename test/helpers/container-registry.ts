/**
 * Blast's example registry with Cutout download run in a container (`compute: 'container'`): a deployment with a
 * container task in its workflow, whose run writes artifacts and sends its successors. The stack's bundles import
 * this module in place of runners/registry.ts (TaskRunnersStackProps.registryModule), as a deployment whose own
 * registry declares a container runner would; test/infra/bundled-workflow.test.ts runs it through the IAM contract.
 */
import { Compute } from '../../lib/runner';
import { CutoutDownload } from '../../runners/cutout-download';
import { registry as example } from '../../runners/registry';
import { withCodeVersions } from '../../runners/versions';

export const CONTAINER_REGISTRY_MODULE = 'test/helpers/container-registry.ts';

class CutoutDownloadInContainer extends CutoutDownload {
  override readonly compute = Compute.Container;
}

export const registry = withCodeVersions(example.map((runner) => (runner instanceof CutoutDownload ? new CutoutDownloadInContainer() : runner)));
