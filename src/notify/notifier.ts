// Delivers change events to the configured receivers after the answer has gone: announce() only queues, so a slow or
// failing receiver never delays or changes what the console or CLI is told. Each delivery is retried with exponential
// backoff (the same bytes, so the same id and signature); each failure is logged and counted, never with the
// receiver's URL (Slack's and Teams' carry their own secret).
import type { Logger } from 'pino';
import type { ChangeEvent, Channel, ChannelName } from './channels.js';

/** Timers the notifier waits with: real ones in the server, a controlled clock's in tests. */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface NotifierOptions {
  channels: Channel[];
  logger: Logger;
  timers?: Timers;
  /** Tries per delivery (the first included). */
  maxAttempts?: number;
  /** Wait before the first retry; doubled for each next one. */
  firstRetryMs?: number;
  /** How long one try may take. */
  timeoutMs?: number;
  /** Deliveries waiting at most; past it new ones are dropped and counted (a flood of held requests stays bounded). */
  maxPending?: number;
  onDelivery?: (channel: ChannelName, outcome: 'delivered' | 'failed' | 'dropped') => void;
}

export interface Notifier {
  /** Queues the event for every receiver; returns at once. */
  announce(event: ChangeEvent): void;
  /** Deliveries not yet delivered or given up. */
  pending(): number;
  /** Resolves when nothing is pending (tests wait on it instead of sleeping). */
  idle(): Promise<void>;
  /** Stops retries and aborts tries in flight. */
  close(): void;
}

const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_FIRST_RETRY_MS = 2000;

export function createNotifier(options: NotifierOptions): Notifier {
  const { channels, logger, timers = realTimers, maxAttempts = DEFAULT_MAX_ATTEMPTS, firstRetryMs = DEFAULT_FIRST_RETRY_MS, timeoutMs = 10_000, maxPending = 1000 } = options;
  const onDelivery = options.onDelivery ?? (() => {});
  const closing = new AbortController();
  const waiting = new Set<unknown>();
  let pending = 0;
  let idleWaiters: (() => void)[] = [];

  const settle = () => {
    pending--;
    if (pending > 0) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  };

  function later(ms: number, work: () => void) {
    const handle = timers.set(() => {
      waiting.delete(handle);
      work();
    }, ms);
    waiting.add(handle);
  }

  async function attempt(channel: Channel, event: ChangeEvent, body: string, headers: Record<string, string>, tried: number): Promise<void> {
    const failure = await send(channel, body, headers, closing.signal, timeoutMs);
    if (failure === undefined) {
      onDelivery(channel.name, 'delivered');
      logger.info({ notification: { channel: channel.name, event: event.id, type: event.type, attempt: tried } }, `notification delivered to ${channel.name}`);
      return settle();
    }
    onDelivery(channel.name, 'failed');
    const last = tried >= maxAttempts || !failure.retry || closing.signal.aborted;
    const note = { channel: channel.name, event: event.id, type: event.type, attempt: tried, reason: failure.reason };
    if (last) {
      logger.error({ notification: note }, `notification to ${channel.name} failed (${failure.reason}); not retried`);
      return settle();
    }
    const waitMs = firstRetryMs * 2 ** (tried - 1);
    logger.warn({ notification: { ...note, retryInMs: waitMs } }, `notification to ${channel.name} failed (${failure.reason}); retrying`);
    later(waitMs, () => void attempt(channel, event, body, headers, tried + 1));
  }

  return {
    announce(event) {
      for (const channel of channels) {
        if (pending >= maxPending || closing.signal.aborted) {
          onDelivery(channel.name, 'dropped');
          logger.error({ notification: { channel: channel.name, event: event.id, type: event.type } }, `notification to ${channel.name} dropped: ${maxPending} are already waiting`);
          continue;
        }
        pending++;
        const { body, headers } = channel.message(event);
        // After the answer: the request that caused the event finishes its turn before the first try starts.
        setImmediate(() => void attempt(channel, event, body, headers, 1));
      }
    },
    pending: () => pending,
    idle: () => (pending === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
    close() {
      closing.abort();
      for (const handle of waiting) timers.clear(handle);
      waiting.clear();
    },
  };
}

/** undefined when the receiver took it; else why not, and whether trying again could help. */
async function send(channel: Channel, body: string, headers: Record<string, string>, closing: AbortSignal, timeoutMs: number): Promise<{ reason: string; retry: boolean } | undefined> {
  try {
    const response = await fetch(channel.url, {
      method: 'POST',
      headers: { ...headers, 'user-agent': 'hasura-metadata-guard' },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([closing, AbortSignal.timeout(timeoutMs)]),
    });
    const text = (await response.text()).slice(0, 200);
    if (channel.accepted(response.status, text)) return undefined;
    // A receiver that says the request itself is wrong will say so again; one that is busy or down may not.
    const retry = response.status >= 500 || response.status === 408 || response.status === 429 || response.status < 400;
    return { reason: `answered ${response.status}`, retry };
  } catch (err) {
    const name = (err as Error)?.name;
    const code = (err as { cause?: { code?: unknown } })?.cause?.code;
    const reason = name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : typeof code === 'string' ? `unreachable (${code})` : 'unreachable';
    return { reason, retry: true };
  }
}
