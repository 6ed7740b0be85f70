// Which Chromium the browser test drives, in this order:
//   1. CHROMIUM_PATH, when set (it must work: a path someone chose never falls back to another browser);
//   2. Debian's /usr/bin/chromium, when it runs;
//   3. the Chromium inside the @sparticuz/chromium package (a devDependency), so a bare machine needs nothing
//      installed: it needs no install script and no network, only a one-time unpack of its brotli archive to /tmp.
// When none works the test fails and says why: a browser test that cannot run is never skipped.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Flags every Chromium here needs: tests run as root in a container (no sandbox) and never phone home. */
const COMMON_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface FoundChromium {
  executablePath: string;
  args: string[];
  /** Where it came from, for error messages and the test log. */
  source: string;
  /** What `chromium --version` printed. */
  version: string;
}

export interface ChromiumSearch {
  env?: NodeJS.ProcessEnv;
  debianPath?: string;
}

export async function findChromium({ env = process.env, debianPath = '/usr/bin/chromium' }: ChromiumSearch = {}): Promise<FoundChromium> {
  if (env.CHROMIUM_PATH) {
    const version = await versionOf(env.CHROMIUM_PATH);
    if (version instanceof Error) throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} does not run (${version.message}). Point it at a working Chromium or unset it.`);
    return { executablePath: env.CHROMIUM_PATH, args: COMMON_ARGS, source: 'CHROMIUM_PATH', version };
  }

  const debian = await versionOf(debianPath);
  if (!(debian instanceof Error)) return { executablePath: debianPath, args: COMMON_ARGS, source: debianPath, version: debian };

  return packagedChromium(debianPath, debian);
}

async function packagedChromium(debianPath: string, debianFailure: Error): Promise<FoundChromium> {
  let executablePath: string;
  try {
    const { default: packaged } = await import('@sparticuz/chromium');
    executablePath = await packaged.executablePath();
  } catch (error) {
    throw new Error(`No usable Chromium: ${debianPath} does not run (${debianFailure.message}) and @sparticuz/chromium could not unpack its browser (${(error as Error).message}). Run "npm install" or set CHROMIUM_PATH.`);
  }
  const version = await versionOf(executablePath);
  if (version instanceof Error) {
    // The package reuses whatever is at $TMPDIR/chromium, even what an unpack cut short left there.
    throw new Error(`No usable Chromium: ${debianPath} does not run (${debianFailure.message}) and the one @sparticuz/chromium unpacked at ${executablePath} does not either (${version.message}). Delete ${executablePath} to unpack it again, or set CHROMIUM_PATH.`);
  }
  // Its own `args` are for AWS Lambda (--single-process, --disable-web-security...); this machine needs none of them.
  return { executablePath, args: COMMON_ARGS, source: '@sparticuz/chromium', version };
}

/** `chromium --version`, or why it did not answer. A file that exists but cannot start counts as missing. */
async function versionOf(executablePath: string): Promise<string | Error> {
  try {
    const { stdout } = await run(executablePath, ['--version'], { timeout: 10_000 });
    const version = stdout.trim();
    return /chrom/i.test(version) ? version : new Error(`"--version" printed ${JSON.stringify(version.slice(0, 80))}, not a Chromium version`);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return new Error(code === 'ENOENT' ? 'not found' : message.split('\n')[0]!);
  }
}
