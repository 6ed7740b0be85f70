// Stand-in notification receivers on 127.0.0.1: a webhook that checks X-Guard-Signature with the shared secret, a Slack
// incoming webhook (200 with the body `ok`) and a Teams Workflows webhook (202). Each records every delivery's raw
// bytes and headers; a test can make the next tries fail, or hang, to see retries and that answers never wait.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Timers } from '../../src/notify/notifier.js';

export const WEBHOOK_SECRET = 'receiver-shared-secret-0123456789';

export interface Delivery {
  receiver: 'webhook' | 'slack' | 'teams';
  headers: IncomingHttpHeaders;
  raw: string;
  json: any;
  /** Webhook only: whether X-Guard-Signature is the HMAC-SHA256 of the raw body under WEBHOOK_SECRET. */
  signatureValid?: boolean;
}

export interface Receivers {
  env: Record<string, string>;
  deliveries: Delivery[];
  of(receiver: Delivery['receiver']): Delivery[];
  /** The next `count` tries at this receiver answer `status` (or are left hanging when status is 'hang'). */
  failNext(receiver: Delivery['receiver'], count: number, status: number | 'hang'): void;
  close(): Promise<void>;
}

/** How a receiver checks a delivery, as docs/history-and-notifications.md shows it. */
export function signatureIsValid(secret: string, raw: string, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw, 'utf8').digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startReceivers(): Promise<Receivers> {
  const deliveries: Delivery[] = [];
  const failures: Record<string, { count: number; status: number | 'hang' }> = {};
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receiver = req.url!.slice(1).split('?')[0] as Delivery['receiver'];
      const raw = Buffer.concat(chunks).toString('utf8');
      const delivery: Delivery = { receiver, headers: req.headers, raw, json: JSON.parse(raw) };
      if (receiver === 'webhook') delivery.signatureValid = signatureIsValid(WEBHOOK_SECRET, raw, req.headers['x-guard-signature'] as string | undefined);
      deliveries.push(delivery);
      const failure = failures[receiver];
      if (failure && failure.count > 0) {
        failure.count--;
        if (failure.status === 'hang') return void hanging.push(res);
        res.writeHead(failure.status, { 'content-type': 'text/plain' });
        return res.end(receiver === 'slack' ? 'invalid_payload' : 'busy');
      }
      if (receiver === 'webhook' && !delivery.signatureValid) {
        res.writeHead(401);
        return res.end('bad signature');
      }
      if (receiver === 'slack') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('ok');
      }
      res.writeHead(receiver === 'teams' ? 202 : 204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      GUARD_NOTIFY_WEBHOOK_URL: `${base}/webhook`,
      GUARD_NOTIFY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GUARD_NOTIFY_SLACK_URL: `${base}/slack?token=slack-url-secret`,
      GUARD_NOTIFY_TEAMS_URL: `${base}/teams?sig=teams-url-secret`,
    },
    deliveries,
    of: (receiver) => deliveries.filter((d) => d.receiver === receiver),
    failNext: (receiver, count, status) => void (failures[receiver] = { count, status }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Timers that fire only when the test says: retries are tested without waiting for them. */
export function manualTimers(): Timers & { delays: () => number[]; fireAll: () => void } {
  const scheduled = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  return {
    set(callback, ms) {
      const handle = ++next;
      scheduled.set(handle, { callback, ms });
      return handle;
    },
    clear: (handle) => void scheduled.delete(handle as number),
    delays: () => [...scheduled.values()].map((s) => s.ms),
    fireAll() {
      const due = [...scheduled.entries()];
      scheduled.clear();
      for (const [, { callback }] of due) callback();
    },
  };
}

/** A Slack text object: `mrkdwn` (Slack reads markup in it) or `plain_text` (shown as written). */
export interface SlackText {
  type: string;
  text: string;
  verbatim?: boolean;
}

/** Every text object of a Slack message's blocks (sections' text and fields, context elements): what Slack renders. */
export function slackTexts(message: { blocks: Array<{ text?: SlackText; fields?: SlackText[]; elements?: SlackText[] }> }): SlackText[] {
  return message.blocks.flatMap((block) => [...(block.text ? [block.text] : []), ...(block.fields ?? []), ...(block.elements ?? [])]);
}

