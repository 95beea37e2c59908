/** Hub URLs, built the way huggingface_hub builds them. */
import { hubEndpoint } from './env';
import type { RepoType } from './cache';

const quotePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

/** `{endpoint}/{repo}/resolve/{revision}/{file}`; datasets under `{endpoint}/datasets/`. */
export function resolveUrl(repo: string, repoType: RepoType, revision: string, file: string): string {
  const prefix = repoType === 'dataset' ? 'datasets/' : '';
  return `${hubEndpoint()}/${prefix}${repo}/resolve/${encodeURIComponent(revision)}/${quotePath(file)}`;
}

/** `{endpoint}/api/{models|datasets}/{repo}/revision/{revision}`: JSON with `sha` and `siblings`. */
export function repoInfoUrl(repo: string, repoType: RepoType, revision: string): string {
  return `${hubEndpoint()}/api/${repoType}s/${repo}/revision/${encodeURIComponent(revision)}`;
}

/** The origin that may receive the HF_TOKEN. */
export const hubOrigin = (): string => new URL(hubEndpoint()).origin;
