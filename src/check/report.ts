// The review in the four forms CI needs: text for a log, JSON for tools, GitHub workflow annotations (at the file
// and line of each change, paths relative to the repository's root), and a Markdown table for a pull request or
// $GITHUB_STEP_SUMMARY. Pure: strings in, strings out.
import type { Level } from '../core/policy.js';
import type { Finding, Review } from './review.js';

export type Format = 'text' | 'json' | 'github' | 'markdown';
export const FORMATS: readonly Format[] = ['text', 'json', 'github', 'markdown'];

/** 0 everything allowed, 1 something needs a confirmation, 2 something is denied (3, could not check, is the CLI's). */
export const EXIT_CODES: Record<Level, number> = { allow: 0, confirm: 1, deny: 2 };

const VERDICT: Record<Level, string> = {
  allow: 'allowed',
  confirm: 'needs a confirmation',
  deny: 'denied',
};

export function render(review: Review, format: Format): string {
  if (format === 'json') return `${JSON.stringify(toJson(review), null, 2)}\n`;
  if (format === 'markdown') return markdown(review);
  if (format === 'github') return github(review);
  return text(review);
}

function summary(review: Review): string {
  const compared = review.metadataComparedWith ? `, metadata compared with ${review.metadataComparedWith}` : '';
  const migrations = `${review.migrations.length} new migration${review.migrations.length === 1 ? '' : 's'}`;
  return `${review.environment}: ${VERDICT[review.level]} (${review.findings.length} change${review.findings.length === 1 ? '' : 's'}; ${migrations}${compared})`;
}

const place = (finding: Finding) => (finding.line === undefined ? finding.file : `${finding.file}:${finding.line}`);

function message(finding: Finding): string {
  const instead = finding.instead ? ` Instead: ${finding.instead}` : '';
  return `${finding.description} — ${VERDICT[finding.level]} in this environment (${finding.className}).${instead}`;
}

function text(review: Review): string {
  const lines = review.findings.map((f) => `${f.level.padEnd(7)} ${place(f)}  ${f.description}  [${f.className}]${f.instead ? `\n        instead: ${f.instead}` : ''}`);
  return `${[summary(review), ...lines].join('\n')}\n`;
}

function toJson(review: Review) {
  return {
    level: review.level,
    exit_code: EXIT_CODES[review.level],
    environment: review.environment,
    migrations: review.migrations,
    metadata_compared_with: review.metadataComparedWith ?? null,
    changes: review.findings.map((f) => ({
      level: f.level,
      class: f.className,
      description: f.description,
      effect: { verb: f.effect.verb, object: f.effect.object, name: f.effect.name ?? null, detail: f.effect.detail ?? null },
      file: f.file,
      line: f.line ?? null,
      instead: f.instead ?? null,
    })),
  };
}

/** Workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions (escaping included). */
function github(review: Review): string {
  const lines: string[] = [];
  for (const finding of review.findings) {
    if (finding.level === 'allow') continue;
    const command = finding.level === 'deny' ? 'error' : 'warning';
    const properties = [`file=${escapeProperty(finding.file)}`];
    if (finding.line !== undefined) properties.push(`line=${finding.line}`);
    properties.push(`title=${escapeProperty(`Hasura ${review.environment}: ${VERDICT[finding.level]}`)}`);
    lines.push(`::${command} ${properties.join(',')}::${escapeData(message(finding))}`);
  }
  lines.push(summary(review));
  return `${lines.join('\n')}\n`;
}

const escapeData = (value: string) => value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (value: string) => escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function markdown(review: Review): string {
  const icon: Record<Level, string> = { allow: '✅', confirm: '⚠️', deny: '⛔' };
  const rows = review.findings.map(
    (f) => `| ${icon[f.level]} ${f.level} | ${cell(f.description)} | \`${cell(place(f))}\` | ${cell(f.className)}${f.instead ? `: ${cell(f.instead)}` : ''} |`,
  );
  const table = rows.length === 0 ? ['No change to review.'] : ['| level | change | where | policy |', '|---|---|---|---|', ...rows];
  return `${[`### Hasura check: ${icon[review.level]} ${summary(review)}`, '', ...table].join('\n')}\n`;
}

const cell = (value: string) => value.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/`/g, "'");
