// How the image starts the guard, read from the Dockerfile's final stage: its CMD and its ENV. The production test
// starts the compiled server this way, and the benches (bench/lib.ts) measure it this way, so both follow the file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageStart {
  /** The final stage's text, from its FROM line on. */
  finalStage: string;
  /** CMD, as its JSON array: `['node', 'dist/index.js']`. */
  cmd: string[];
  /** Every NAME=value of the final stage's ENV lines. */
  env: Record<string, string>;
}

export function imageStart(root: string): ImageStart {
  const finalStage = readFileSync(join(root, 'Dockerfile'), 'utf8').split(/^FROM /m).at(-1)!;
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(finalStage)![1]!) as string[];
  const env = Object.fromEntries(
    [...finalStage.matchAll(/^ENV (.*)$/gm)].flatMap((line) => [...line[1]!.matchAll(/(\w+)=(\S+)/g)]).map((m) => [m[1]!, m[2]!]),
  );
  return { finalStage, cmd, env };
}
