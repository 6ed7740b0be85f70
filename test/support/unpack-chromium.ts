// Vitest global setup. Test files run in parallel workers, and @sparticuz/chromium unpacks its browser to a fixed
// path in /tmp with no lock: two workers unpacking at once would each see the other's half-written file. So the
// Chromium is found (and unpacked, the first time) once here, before any worker starts. A failure is not reported
// here: the browser test calls findChromium again and fails with the reason, without failing unrelated tests.
import { findChromium } from './chromium.js';

export default async function unpackChromiumOnce(): Promise<void> {
  await findChromium().catch(() => undefined);
}
