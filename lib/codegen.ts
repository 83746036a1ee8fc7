import { basename } from 'node:path';
import type { Catalog } from './domain/catalog';

/** 'no GHOST match' → 'NoGHOSTMatch', 'Cutout download' → 'CutoutDownload'. */
export const constantKey = (text: string): string => {
  const key = text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
  return /^[0-9]/.test(key) ? `_${key}` : key;
};

const constObject = (name: string, values: Iterable<string>): string => {
  const lines = [...values].map((value) => `  ${constantKey(value)}: ${JSON.stringify(value)},`);
  return `export const ${name} = {\n${lines.join('\n')}\n} as const;\nexport type ${name} = (typeof ${name})[keyof typeof ${name}];\n`;
};

/**
 * The TypeScript constants for the fixtures' statuses and tasks, so runners never retype them. The text
 * depends on the fixtures' contents only, not on the folder they were read from (`--fixtures DIR`).
 */
export const renderFixtureConstants = (catalog: Catalog): string =>
  `// Generated from ${basename(catalog.statusFile)} and ${basename(catalog.taskFile)} by \`npm run generate\`; do not edit.\n\n` +
  `${constObject('StatusMessage', catalog.statuses.keys())}\n${constObject('TaskName', catalog.tasks.keys())}`;

export const GENERATED_FIXTURES_MODULE = 'lib/generated/fixtures.ts';
