/**
 * The test data folder (../shared beside the repository, or $DIRMAG_SHARED) handed to the product
 * explicitly, as a user would hand local files: the datasets through DIRMAG_WIKITEXT and
 * DIRMAG_BLIMP_DIR, the tiny CI checkpoints through DIRMAG_TEST_DATA. Imported first by every test
 * that runs experiments; the product itself has no default that points here.
 */
import * as path from 'node:path';

export const SHARED = path.resolve(process.env.DIRMAG_SHARED ?? path.join(__dirname, '../../shared'));
process.env.DIRMAG_TEST_DATA ??= SHARED;
process.env.DIRMAG_WIKITEXT ??= path.join(SHARED, 'data/wikitext-2-raw/wiki.test.raw');
process.env.DIRMAG_BLIMP_DIR ??= path.join(SHARED, 'data/blimp');
