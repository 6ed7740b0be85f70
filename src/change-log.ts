// What the guard does when a production change moves (held, confirmed, passed, failed, denied): the history records
// the step, then the receivers hear of it. Fed by the core's audit records and the proxy's word on Hasura's answer;
// it runs after the answer and never changes it: a failure here is logged and counted, nothing more.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Clock } from './vocabulary/clock.js';
import type { EnforcementDecision } from './core/enforcement.js';
import type { Metrics } from './metrics.js';
import { webhookChannel, slackChannel, teamsChannel, type Channel, type ChangeEvent } from './notify/channels.js';
import { createNotifier, type Notifier, type Timers } from './notify/notifier.js';
import { signalFromDecision, signalFromHasuraAnswer, type ChangeRecord, type ChangeSignal, type PersonFields } from './history/changes.js';
import { changeLink, createHistoryDoor, type HistoryDoor } from './history/door.js';
import { createHistory, createMemoryHistoryStore, DAY_MS, failureReason, type History, type HistoryStore } from './history/history.js';
import type { ViewerCheck } from './history/viewer.js';

/** How often records older than GUARD_HISTORY_DAYS are deleted. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface ChangeLog {
  /**
   * The engine's audit records of enforcing mode (judgements, held requests' confirmations; src/app.ts picks them
   * out): the steps they tell of are recorded and announced.
   */
  onDecision(decision: EnforcementDecision & PersonFields): void;
  /** The proxy's onApprovedAnswered: a confirmed change passed (Hasura said 2xx) or failed. */
  onApprovedAnswered(change: { fingerprint: string; sub: string }, hasuraStatus: number | undefined): void;
  door: HistoryDoor;
  history: History;
  notifier?: Notifier;
  /** Resolves once every step so far is recorded and handed to the notifier (tests wait on it). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface ChangeLogOptions {
  config: Config;
  environment: string;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  canView: ViewerCheck;
  /** The PostgreSQL history when GUARD_DATABASE_URL is set (loaded lazily by the app); memory otherwise. */
  store?: HistoryStore;
  notifyTimers?: Timers;
}

export function createChangeLog(options: ChangeLogOptions): ChangeLog {
  const { config, environment, clock, logger, metrics } = options;
  const history = createHistory({ store: options.store ?? createMemoryHistoryStore(), clock, days: config.historyDays });
  const channels = receivers(config);
  const notifier =
    channels.length === 0
      ? undefined
      : createNotifier({ channels, logger, timers: options.notifyTimers, onDelivery: (channel, outcome) => metrics?.recordNotification(channel, outcome) });
  // Steps are recorded one after another, so a change's confirmation never overtakes its hold.
  let queue: Promise<void> = Promise.resolve();

  function track(signal: ChangeSignal | undefined): void {
    if (!signal) return;
    queue = queue.then(() => recordThenAnnounce(signal));
  }

  async function recordThenAnnounce(signal: ChangeSignal): Promise<void> {
    let record: ChangeRecord | undefined;
    try {
      record = await history.record(signal);
    } catch (err) {
      metrics?.recordHistoryFailure();
      logger.warn({ reason: failureReason(err), change: signal.type }, 'the change history could not record a step; it is still announced');
    }
    notifier?.announce(eventOf(signal, record));
  }

  function eventOf(signal: ChangeSignal, record: ChangeRecord | undefined): ChangeEvent {
    // The change's id is the history page's (the link); the event's own id is new for each event, kept on its retries.
    const changeId = record?.id ?? signal.tokenId ?? randomUUID();
    return {
      id: randomUUID(),
      type: signal.type,
      at: new Date(signal.at).toISOString(),
      environment: signal.environment,
      requester: record?.requester ?? signal.requester ?? null,
      confirmer: record?.confirmer ?? signal.confirmer ?? null,
      summary: record?.summary ?? signal.summary ?? 'a production change',
      changes: record?.changes ?? signal.changes ?? [],
      link: changeLink(config.publicUrl ?? '', changeId),
    };
  }

  const prune = () =>
    void history.prune().then(
      (count) => count > 0 && logger.info({ pruned: count }, `change history: forgot ${count} changes older than ${config.historyDays} days`),
      (err: unknown) => logger.warn({ reason: failureReason(err) }, 'the change history could not forget old changes'),
    );
  // Once at start (which also creates the PostgreSQL table), then every hour.
  prune();
  const pruning = setInterval(prune, Math.min(PRUNE_EVERY_MS, DAY_MS));
  pruning.unref();

  return {
    onDecision: (decision) => track(signalFromDecision(decision, clock())),
    onApprovedAnswered: (change, status) => track(signalFromHasuraAnswer(change, environment, status, clock())),
    door: createHistoryDoor({ history, canView: options.canView, logger }),
    history,
    notifier,
    settled: () => queue,
    async close() {
      clearInterval(pruning);
      notifier?.close();
      await history.store.close();
    },
  };
}

function receivers(config: Config): Channel[] {
  const { webhook, slackUrl, teamsUrl } = config.notify;
  return [
    ...(webhook ? [webhookChannel(webhook.url, webhook.secret)] : []),
    ...(slackUrl ? [slackChannel(slackUrl)] : []),
    ...(teamsUrl ? [teamsChannel(teamsUrl)] : []),
  ];
}

