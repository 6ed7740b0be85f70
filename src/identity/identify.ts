// The identity check at the entry of every door: the auth proxy's signed assertion (verified) or, on explicit
// opt-in, its identity header (believed only from GUARD_TRUSTED_PROXIES). A request carrying either that does not
// hold up is refused with 401, never treated as anonymous and never forwarded. A request carrying neither goes on
// with no person (CI with the admin secret, a health probe); the rules that need one refuse it where they apply.
import type { IncomingMessage } from 'node:http';
import type { BlockList } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../vocabulary/clock.js';
import { createAssertionVerifier, type AssertionFailure, type AssertionSettings } from './assertion.js';
import { groupsFrom, normalEmail, rememberPerson, type Person } from '../vocabulary/person.js';
import { isTrusted } from './trusted-proxies.js';

export interface TrustedHeaderSettings {
  /** Lower-case header names, e.g. x-forwarded-email and x-forwarded-groups. */
  header: string;
  groupsHeader?: string;
  trustedProxies: BlockList;
}

export interface IdentitySettings {
  assertion?: AssertionSettings;
  trustedHeader?: TrustedHeaderSettings;
}

export type IdentityRefusalCode = AssertionFailure | 'IDENTITY_HEADER_UNTRUSTED' | 'IDENTITY_HEADER_INVALID' | 'IDENTITY_REPEATED' | 'IDENTITY_CONFLICT';

export interface IdentityRefusal {
  code: IdentityRefusalCode;
  /** For the client: says what is wrong, never the token or a claim's value. */
  message: string;
}

/**
 * undefined when the request carries no identity to check (nothing to wait for); otherwise a promise of the
 * refusal, or of undefined once the person is remembered on the request (personOf).
 */
export type Identify = (req: IncomingMessage) => Promise<IdentityRefusal | undefined> | undefined;

export function createIdentify(settings: IdentitySettings, clock: Clock, logger: Logger): Identify | undefined {
  const { assertion, trustedHeader } = settings;
  if (!assertion && !trustedHeader) return undefined;
  const verify = assertion && createAssertionVerifier(assertion, clock);

  async function identify(req: IncomingMessage, token: string[] | undefined, header: string[] | undefined): Promise<IdentityRefusal | undefined> {
    const fromHeader = header && personFromHeader(req, header, trustedHeader!);
    if (fromHeader && 'code' in fromHeader) return refused(fromHeader);
    let person = fromHeader;
    if (token) {
      if (token.length > 1) return refused({ code: 'IDENTITY_REPEATED', message: `the ${assertion!.header} header was sent more than once` });
      const verified = await verify!(token[0]!);
      if (!verified.ok) return refused(verified);
      // Two sources naming two people: believe neither.
      if (person && person.email !== verified.person.email) {
        return refused({ code: 'IDENTITY_CONFLICT', message: 'the identity header and the identity assertion name different people' });
      }
      person = verified.person;
    }
    rememberPerson(req, person!);
    return undefined;

    function refused(refusal: IdentityRefusal): IdentityRefusal {
      // The code and the address only: never the token or what a header claimed.
      const log = refusal.code === 'KEY_SET_UNAVAILABLE' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ identity: refusal.code, remote: req.socket.remoteAddress }, 'identity refused');
      return { code: refusal.code, message: refusal.message };
    }
  }

  return (req) => {
    const token = assertion && present(req.headersDistinct[assertion.header]);
    const header = trustedHeader && present(req.headersDistinct[trustedHeader.header]);
    if (!token && !header) return undefined;
    return identify(req, token, header);
  };
}

/**
 * The lines a header was sent in, or undefined when it was not sent or sent once empty. Every line counts, empty ones
 * too: an empty line from the proxy beside the client's own must read as "sent twice", never as the client's alone.
 */
function present(values: string[] | undefined): string[] | undefined {
  if (!values || values.length === 0 || (values.length === 1 && values[0] === '')) return undefined;
  return values;
}

function personFromHeader(req: IncomingMessage, values: string[], settings: TrustedHeaderSettings): Person | IdentityRefusal {
  if (!isTrusted(settings.trustedProxies, req.socket.remoteAddress)) {
    return { code: 'IDENTITY_HEADER_UNTRUSTED', message: `the ${settings.header} header came from an address that is not a trusted proxy (GUARD_TRUSTED_PROXIES)` };
  }
  if (values.length > 1) return { code: 'IDENTITY_REPEATED', message: `the ${settings.header} header was sent more than once` };
  const email = normalEmail(values[0]);
  if (email === undefined) return { code: 'IDENTITY_HEADER_INVALID', message: `the ${settings.header} header is empty, too long or holds control characters` };
  // Sent twice, the groups are refused as the email is: a proxy that appends its line beside the client's would
  // otherwise let the client name its own groups (and so become an approver).
  const groupLines = settings.groupsHeader ? (req.headersDistinct[settings.groupsHeader] ?? []) : [];
  if (groupLines.length > 1) return { code: 'IDENTITY_REPEATED', message: `the ${settings.groupsHeader} header was sent more than once` };
  const groups = groupsFrom(groupLines[0]);
  return { email, groups, via: 'header' };
}
