// Why a check could not be made (exit code 3): a stable code and one line for the reader, never a stack trace.

export type CheckErrorCode =
  | 'BAD_OPTION'
  | 'NO_PROJECT'
  | 'NOT_CONFIG_V3'
  | 'UNSUPPORTED_PROJECT'
  | 'BAD_YAML'
  | 'UNREADABLE_FILE'
  | 'MISSING_INCLUDE'
  | 'OUTSIDE_REPOSITORY'
  | 'BAD_ACTIONS'
  | 'NOT_A_REPOSITORY'
  | 'UNKNOWN_REF'
  | 'GIT_FAILED'
  | 'ENDPOINT_FAILED'
  | 'BAD_POLICY';

export class CheckError extends Error {
  override name = 'CheckError';
  constructor(
    readonly code: CheckErrorCode,
    message: string,
  ) {
    super(message);
  }
}
