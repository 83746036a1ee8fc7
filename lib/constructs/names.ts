import { slug } from '../queue/queue-settings';

/**
 * 'Global aperture photometry' → 'GlobalAperturePhotometry': a runner's construct id, so that its resources'
 * logical ids depend on its task alone, never on its place in the registry.
 */
export const constructId = (task: string): string =>
  slug(task)
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
