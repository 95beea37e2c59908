/** Parquet files of the hub datasets the experiments read. */
import { downloadFile, type DownloadResult } from './download';
import { snapshotDownload } from './snapshot';

/** WikiText-103 (raw) test split, used for language-model loss. */
export const WIKITEXT = { repo: 'Salesforce/wikitext', file: 'wikitext-103-raw-v1/test-00000-of-00001.parquet' };

/** BLiMP minimal pairs: one parquet file per paradigm. */
export const BLIMP_REPO = 'nyu-mll/blimp';
export const blimpFile = (paradigm: string): string => `${paradigm}/train-00000-of-00001.parquet`;

/** One file of a dataset repo into the HF cache (datasets--org--name); defaults to WikiText-103 test. */
export function downloadDatasetFile(
  repo: string = WIKITEXT.repo,
  file: string = WIKITEXT.file,
  revision = 'main',
): Promise<DownloadResult> {
  return downloadFile({ repo, file, revision, repoType: 'dataset' });
}

/** Every dataset file the study reads (WikiText test split, every BLiMP paradigm) into the HF cache. */
export async function downloadStudyData(revision = 'main'): Promise<{ repo: string; files: number; dir: string }[]> {
  const wikitext = await downloadDatasetFile(WIKITEXT.repo, WIKITEXT.file, revision);
  const blimp = await snapshotDownload({
    repo: BLIMP_REPO,
    repoType: 'dataset',
    revision,
    files: (all) => all.filter((f) => f.endsWith('.parquet')),
  });
  return [
    { repo: WIKITEXT.repo, files: 1, dir: wikitext.path },
    { repo: BLIMP_REPO, files: blimp.files.length, dir: blimp.dir },
  ];
}
