// Undoes a request's Content-Encoding so the guard reads what Hasura would read. Output is capped (a few KB of
// gzip can inflate to gigabytes), and an encoding the guard cannot read is refused: never passed unread.
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

export type DecodeFailure = 'unsupported-encoding' | 'too-large' | 'corrupt';

export class BodyDecodeError extends Error {
  override name = 'BodyDecodeError';
  constructor(
    readonly reason: DecodeFailure,
    message: string,
  ) {
    super(message);
  }
}

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
  try {
    return await decoders[encoding as keyof typeof decoders](raw, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || (err as RangeError).name === 'RangeError') {
      throw new BodyDecodeError('too-large', `the decoded body is larger than ${maxBytes} bytes`);
    }
    throw new BodyDecodeError('corrupt', `the body is not valid ${encoding} data`);
  }
}
