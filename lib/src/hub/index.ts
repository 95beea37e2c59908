/** Hugging Face hub downloads into the standard HF cache (shared with huggingface_hub). */
export { hfCacheDir, hubEndpoint, isOffline } from './env';
export { HubError, isHubError, type HubErrorCode } from './errors';
export { repoFolderName, type RepoType } from './cache';
export { downloadFile, type DownloadOptions, type DownloadResult } from './download';
export { snapshotDownload, listRepoFiles, type SnapshotOptions, type SnapshotResult } from './snapshot';
export { resolveModel, OPTIONAL_FILES, type ResolveModelOptions, type ResolvedModel } from './model';
export { downloadDatasetFile, WIKITEXT, BLIMP_REPO, blimpFile } from './datasets';
