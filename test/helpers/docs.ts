/**
 * Reading the docs as GitHub renders them, for the tests that keep them true: the pages, their links and
 * headings' anchors, and the shell commands they show (in `sh` blocks, after a `$ ` prompt, or as inline code).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const README = 'README.md';
export const DOCS_DIR = 'docs';

/** Every page of docs/, its sub-folders included, as paths from the project's root. */
export const docsPages = (dir = DOCS_DIR): string[] =>
  readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? docsPages(path) : path.endsWith('.md') ? [path] : [];
    });

/** The README and every docs page: what a reader reads. */
export const allPages = (): string[] => [README, ...docsPages()];

interface Fence {
  readonly lang: string;
  readonly body: string;
}

const FENCE = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;

export const fencedBlocks = (markdown: string): Fence[] =>
  [...markdown.matchAll(FENCE)].map((match) => ({ lang: match[1] ?? '', body: match[2] ?? '' }));

/** The page's prose: fenced blocks and inline code taken out, so that what they hold is not read as a link. */
const prose = (markdown: string): string => markdown.replace(FENCE, '').replace(/`[^`\n]*`/g, '');

export interface Link {
  readonly text: string;
  /** The file part of the target ('' for a heading of the same page). */
  readonly path: string;
  /** The heading's anchor, without '#'; undefined when the link names none. */
  readonly anchor: string | undefined;
}

/** The relative links of a page (web addresses left out). */
export const relativeLinks = (markdown: string): Link[] =>
  [...prose(markdown).matchAll(/\[([^\]]*)\]\(([^)\s]+)\)/g)]
    .map((match) => ({ text: match[1] ?? '', target: match[2] ?? '' }))
    .filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map(({ text, target }) => {
      const hash = target.indexOf('#');
      return hash < 0 ? { text, path: target, anchor: undefined } : { text, path: target.slice(0, hash), anchor: target.slice(hash + 1) };
    });

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
export const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a page's headings, as GitHub numbers repeated ones (`x`, `x-1`, ...). */
export const anchors = (markdown: string): Set<string> => {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of markdown.replace(FENCE, '').matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(match[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
};

/** Words that begin a command line in inline code: `npm start -- --tick 500`, `./bin/cli.ts graph`, `aws ...`. */
const COMMAND_STARTS = ['npm ', 'npx ', './bin/', 'aws '];

/**
 * The simple commands a page shows, each as its words: every line of an `sh` block (a trailing `\` joins the
 * next), every `$ ` line of another block, and every inline code span that starts like a command.
 */
export const shownCommands = (markdown: string): string[][] => {
  const fromBlocks = fencedBlocks(markdown).flatMap(({ lang, body }) => {
    const lines = body.replace(/\\\n\s*/g, ' ').split('\n');
    return ['sh', 'bash', 'shell'].includes(lang) ? lines : lines.filter((line) => line.startsWith('$ ')).map((line) => line.slice(2));
  });
  const inline = [...markdown.replace(FENCE, '').matchAll(/`([^`\n]+)`/g)]
    .map((match) => match[1] ?? '')
    .filter((code) => COMMAND_STARTS.some((start) => code.startsWith(start)));
  return [...fromBlocks, ...inline].flatMap(shellCommands);
};

/**
 * The simple commands of a command line, each as its words as a POSIX shell splits them: `&&` and `;` separate
 * commands, and a pipe, a redirection or a comment ends the line (what follows is another program's). Single
 * quotes keep everything; in double quotes a backslash escapes only a quote or a backslash.
 */
export const shellCommands = (line: string): string[][] => {
  const commands: string[][] = [[]];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) commands[commands.length - 1]?.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i] ?? '';
    if (char === "'" || char === '"') {
      const end = line.indexOf(char, i + 1);
      if (end < 0) throw new Error(`unclosed ${char} in: ${line}`);
      const quoted = line.slice(i + 1, end);
      word = (word ?? '') + (char === '"' ? quoted.replace(/\\(["\\])/g, '$1') : quoted);
      i = end;
    } else if (char === '\\' && i + 1 < line.length) {
      word = (word ?? '') + (line[i + 1] ?? '');
      i += 1;
    } else if (/\s/.test(char)) {
      endWord();
    } else if (word === undefined && (line.startsWith('&&', i) || char === ';')) {
      commands.push([]);
      if (char === '&') i += 1;
    } else if (word === undefined && (char === '#' || char === '|' || char === '>' || char === '<' || char === '&')) {
      break;
    } else {
      word = (word ?? '') + char;
    }
  }
  endWord();
  return commands.filter((words) => words.length > 0);
};

/** The file each `<!-- example: PATH -->` marker names, with the code block that follows it. */
export const examples = (markdown: string): { file: string; block: string | undefined }[] =>
  [...markdown.matchAll(/<!-- example: (\S+) -->\n(?:```\w*\n([\s\S]*?)```)?/g)].map((match) => ({ file: match[1] ?? '', block: match[2] }));

export const read = (path: string): string => readFileSync(path, 'utf8');
