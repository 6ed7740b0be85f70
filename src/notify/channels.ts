// What each receiver is sent for one change event: a signed JSON webhook, a Slack incoming webhook, a Microsoft Teams
// Workflows webhook. Each message is built once, so every retry sends the same bytes (and the same id).
import { createHmac } from 'node:crypto';
import type { ChangeOutcome } from '../history/changes.js';

/** The event a webhook receives, as docs/history-and-notifications.md shows it: `{id, type, at, environment, requester, confirmer, summary, changes, link}`. */
export interface ChangeEvent {
  /** One per event, the same on every retry: receivers drop repeats by it. */
  id: string;
  type: ChangeOutcome;
  /** ISO 8601, UTC. */
  at: string;
  environment: string;
  requester: string | null;
  confirmer: string | null;
  summary: string;
  changes: string[];
  /** The change in the history: absolute when GUARD_PUBLIC_URL is set, else a path on the guard. */
  link: string;
}

export type ChannelName = 'webhook' | 'slack' | 'teams';

export interface Message {
  body: string;
  headers: Record<string, string>;
}

export interface Channel {
  name: ChannelName;
  /** Never logged or shown: Slack's and Teams' URLs carry their own secret. */
  url: string;
  message(event: ChangeEvent): Message;
  /** Whether the receiver took it: Slack answers 200 with the body `ok`; the others any 2xx. */
  accepted(status: number, body: string): boolean;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const is2xx = (status: number) => status >= 200 && status < 300;

/** `X-Guard-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed by GUARD_NOTIFY_WEBHOOK_SECRET. */
function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function webhookChannel(url: string, secret: string): Channel {
  return {
    name: 'webhook',
    url,
    message(event) {
      const body = JSON.stringify(event);
      return { body, headers: { ...JSON_TYPE, 'x-guard-signature': signature(secret, body), 'x-guard-event': event.type } };
    },
    accepted: is2xx,
  };
}

/** One line a person reads first, per type. */
function headline(event: ChangeEvent): string {
  const who = event.requester ? `, requested by ${event.requester}` : '';
  const by = event.confirmer ? ` by ${event.confirmer}` : '';
  switch (event.type) {
    case 'held':
      return `Held in ${event.environment}: ${event.summary}${who}. It needs a confirmation.`;
    case 'confirmed':
      return `Confirmed in ${event.environment}${by}: ${event.summary}${who}. The same request, sent again, passes once.`;
    case 'passed':
      return `Applied in ${event.environment}: Hasura accepted the confirmed change: ${event.summary}${who}.`;
    case 'failed':
      return `Not applied in ${event.environment}: Hasura refused the confirmed change: ${event.summary}${who}.`;
    case 'unanswered':
      return `Sent to Hasura in ${event.environment}, no answer seen: ${event.summary}${who}. No answer came back (the sender left, the connection broke, or Hasura was out of reach): check whether Hasura applied it.`;
    case 'denied':
      return `Denied in ${event.environment}: ${event.summary}${who}. The policy does not allow it.`;
  }
}

const isAbsolute = (link: string) => /^https?:\/\//.test(link);

/** Slack's mrkdwn reads &, < and > as markup: they are escaped as its documentation says. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Text on one line: names are the requester's words, and a table called `x\n\n*Confirmed by carol*` must not write a
 * line of the guard's message. Control and format characters become a space.
 */
const oneLine = (text: string) => text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ');

/** Slack text that is shown as written: no link made of a URL in a name, no mention, no emphasis. */
const slackPlain = (text: string) => ({ type: 'plain_text', text, emoji: false });

export function slackChannel(url: string): Channel {
  return {
    name: 'slack',
    url,
    message(event) {
      const headlineText = oneLine(headline(event));
      const facts = [
        `Environment: ${oneLine(event.environment)}`,
        `Requested by: ${oneLine(event.requester ?? 'unknown')}`,
        ...(event.confirmer ? [`Confirmed by: ${oneLine(event.confirmer)}`] : []),
      ];
      // The guard's own link is the one piece of markup: verbatim, so nothing else in that line becomes one.
      const open = isAbsolute(event.link) ? `<${event.link}|Open in the history>` : `History: ${slackEscape(oneLine(event.link))}`;
      const changes = event.changes.slice(0, 20).map((c) => `• ${oneLine(c)}`).join('\n') || '•';
      const blocks = [
        { type: 'section', text: slackPlain(headlineText) },
        { type: 'section', fields: facts.map(slackPlain) },
        { type: 'section', text: slackPlain(changes) },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `${open} · ${event.at}`, verbatim: true }] },
      ];
      // `text` is the notification's fallback (mrkdwn): escaped, and on one line.
      return { body: JSON.stringify({ text: slackEscape(headlineText), blocks }), headers: JSON_TYPE };
    },
    accepted: (status, body) => status === 200 && body.trim() === 'ok',
  };
}

const ATTENTION: Record<ChangeOutcome, string> = { held: 'Warning', confirmed: 'Accent', passed: 'Good', failed: 'Attention', unanswered: 'Warning', denied: 'Attention' };

/** A line of plain text: a TextRun, which Teams never reads as Markdown (a TextBlock would render `[x](url)`). */
const plain = (text: string, style: Record<string, string> = {}) => ({ type: 'TextRun', text: oneLine(text), ...style });

/**
 * A Workflows webhook takes a message whose attachment is an Adaptive Card (the MessageCard connectors are retired).
 * Names in a change are the requester's words (a table may be called `[Approve here](https://…)`), so the card holds
 * only RichTextBlocks of TextRuns: no Markdown link, emphasis or list under the guard's name.
 */
export function teamsChannel(url: string): Channel {
  return {
    name: 'teams',
    url,
    message(event) {
      const facts: [string, string][] = [
        ['Environment', event.environment],
        ['Requested by', event.requester ?? 'unknown'],
        ...(event.confirmer ? [['Confirmed by', event.confirmer] as [string, string]] : []),
        ['At', event.at],
      ];
      const card = {
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.4',
        body: [
          { type: 'RichTextBlock', inlines: [plain(headline(event), { weight: 'Bolder', color: ATTENTION[event.type] })] },
          ...facts.map(([title, value]) => ({ type: 'RichTextBlock', spacing: 'None', inlines: [plain(`${title}: `, { weight: 'Bolder' }), plain(value)] })),
          ...event.changes.slice(0, 20).map((change) => ({ type: 'RichTextBlock', spacing: 'None', inlines: [plain(`• ${change}`)] })),
        ],
        actions: isAbsolute(event.link) ? [{ type: 'Action.OpenUrl', title: 'Open in the history', url: event.link }] : [],
      };
      const body = JSON.stringify({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] });
      return { body, headers: JSON_TYPE };
    },
    accepted: is2xx,
  };
}
