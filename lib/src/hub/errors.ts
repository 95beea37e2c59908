/** Why a hub operation failed; callers branch on `code`, people read `message` (one line). */
export type HubErrorCode =
  | 'not_found' // the file does not exist at that revision (404 EntryNotFound)
  | 'repo_not_found' // the repo or revision does not exist (or is private/gated)
  | 'offline' // not in the cache and HF_HUB_OFFLINE is set
  | 'unreachable' // not in the cache and the hub could not be reached
  | 'integrity' // downloaded bytes do not match the expected sha256 or size
  | 'http' // any other unexpected HTTP answer
  | 'invalid'; // a bad argument (repo id, file path, local directory)

export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export const isHubError = (e: unknown, ...codes: HubErrorCode[]): e is HubError =>
  e instanceof HubError && (codes.length === 0 || codes.includes(e.code));
