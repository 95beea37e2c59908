/**
 * Hugging Face hub downloads into the standard HF cache, shared with Python's huggingface_hub
 * (models--org--name/{blobs,snapshots,refs,.no_exist}). Cache first: a revision already in
 * refs/ is served without any request (pass `refresh: true` to follow a moved branch). Offline
 * (HF_HUB_OFFLINE) or with the hub unreachable, only the cache answers. Errors are HubError with a
 * `code` and a one-line message naming the repo and file.
 */
export { hfCacheDir, hubEndpoint, isOffline } from './env';
export { HubError, isHubError, type HubErrorCode } from './errors';
export { repoFolderName, type RepoType } from './cache';
export { downloadFile, type DownloadOptions, type DownloadResult } from './download';
export { snapshotDownload, listRepoFiles, type SnapshotOptions, type SnapshotResult } from './snapshot';
export { resolveModel, resolveTokenizer, OPTIONAL_FILES, type ResolveModelOptions, type ResolvedModel } from './model';
export { downloadDatasetFile, downloadStudyData, WIKITEXT, BLIMP_REPO, blimpFile } from './datasets';
export { downloadCommand } from './fetch-hint';
export {
  onDownloadProgress,
  progressLines,
  formatDownload,
  type DownloadUpdate,
  type DownloadListener,
} from './progress';
