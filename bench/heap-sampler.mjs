// Loaded into the guard by bench/proxy-profile.ts (node --import): V8's sampling heap profiler, through an inspector
// session inside the process. The first SIGUSR2 starts it, counting objects already collected too (what a request
// allocates, not what it keeps), and writes HEAP_SAMPLES_FILE.started; the second stops it and writes the profile to
// HEAP_SAMPLES_FILE.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
let sampling = false;
process.on('SIGUSR2', async () => {
  if (!sampling) {
    sampling = true;
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    writeFileSync(`${process.env.HEAP_SAMPLES_FILE}.started`, '');
    return;
  }
  const { profile } = await post('HeapProfiler.stopSampling');
  writeFileSync(process.env.HEAP_SAMPLES_FILE, JSON.stringify(profile));
});
