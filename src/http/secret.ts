import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Returns a check for the shared action secret. Both sides are hashed first, so the comparison takes the
 * same time whatever the length or content of the guess (timingSafeEqual alone throws on unequal lengths).
 */
export function createSecretCheck(secret: string | undefined): (presented: string | string[] | undefined | null) => boolean {
  if (secret === undefined) return () => true;
  const expected = createHash('sha256').update(secret).digest();
  return (presented) => {
    if (typeof presented !== 'string') return false;
    const actual = createHash('sha256').update(presented).digest();
    return timingSafeEqual(actual, expected);
  };
}
