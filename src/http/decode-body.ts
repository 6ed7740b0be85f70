// Undoes a request's Content-Encoding so the guard reads what Hasura would read. Output is capped, absolutely and per
// compressed byte (a few KB of gzip can inflate to gigabytes), and an encoding the guard cannot read is refused:
// never passed unread.
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

export type DecodeFailure = 'unsupported-encoding' | 'too-large' | 'compression-ratio' | 'corrupt';

export class BodyDecodeError extends Error {
  override name = 'BodyDecodeError';
  constructor(
    readonly reason: DecodeFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Bodies decoding to this size or less may have any compression ratio (a few KB of JSON often compress 20:1 or more). */
const RATIO_FREE_BYTES = 1024 * 1024;

/**
 * Decoded bytes per compressed byte, past RATIO_FREE_BYTES. Neither the console nor the CLI compresses request
 * bodies; a script that does reaches about 65:1 (gzip) or 150:1 (brotli) on the most repetitive metadata the bench
 * makes (bench/crash-bodies.ts prints both). Zip bombs are near 1,000:1, gzip's ceiling. Decoding stops at the bound,
 * so a bomb costs what its first decoded megabytes do.
 */
const MAX_COMPRESSION_RATIO = 200;

const decoders = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

export async function decodeBody(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  if (!Object.hasOwn(decoders, encoding)) {
    throw new BodyDecodeError('unsupported-encoding', `Content-Encoding "${encoding.slice(0, 40)}" is not one the guard can read (gzip, deflate, br or none)`);
  }
  const ratioBound = Math.max(RATIO_FREE_BYTES, raw.length * MAX_COMPRESSION_RATIO);
  try {
    return await decoders[encoding as keyof typeof decoders](raw, { maxOutputLength: Math.min(maxBytes, ratioBound) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || (err as RangeError).name === 'RangeError') {
      if (ratioBound < maxBytes) {
        throw new BodyDecodeError('compression-ratio', `the body decodes to more than ${MAX_COMPRESSION_RATIO} times its compressed size (past the first ${RATIO_FREE_BYTES} bytes); send it uncompressed`);
      }
      throw new BodyDecodeError('too-large', `the decoded body is larger than ${maxBytes} bytes`);
    }
    throw new BodyDecodeError('corrupt', `the body is not valid ${encoding} data`);
  }
}
