// zod/mini: the same validation as zod with a tenth of the code to load at start-up.
// It ships without messages; the English ones make configuration and payload errors readable.
// Import it as `import * as z from './zod.js'`: property access on the namespace lets the bundler drop
// the rest.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
