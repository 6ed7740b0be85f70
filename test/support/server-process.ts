// A guard server in a child process, read through its JSON log lines (pino writes one per line on stdout).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, any>;

export interface ServerProcess {
  child: ChildProcess;
  /** http://HOST:PORT, from the "listening" line (the server is started on PORT=0 and says which port it got). */
  url: string;
  lines: LogLine[];
  /** Resolves with the first log line that matches, already written or still to come. */
  waitForLine(match: (line: LogLine) => boolean): Promise<LogLine>;
  exited: Promise<number | null>;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnServer(command: string, args: string[], options: { cwd: string; env: Record<string, string | undefined> }): Promise<ServerProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text);
    lines.push(line);
    for (const w of [...waiters]) if (w.match(line)) waiters.splice(waiters.indexOf(w), 1), w.resolve(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLine = (match: (l: LogLine) => boolean) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen) return resolve(seen);
      waiters.push({ match, resolve });
      void exited.then((code) => reject(new Error(`server exited (${code}) before the expected log line${stderr ? `: ${stderr.trim()}` : ''}`)));
    });
  const listening = await waitForLine((l) => typeof l.url === 'string');
  return {
    child,
    url: listening.url,
    lines,
    waitForLine,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
