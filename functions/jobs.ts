// The kinds of background job the product runs, by name, as app.ts composes the routes: each runner
// (`npm start`, `npm run worker`, the Supabase worker function) claims the kinds listed here.
import type { JobHandlers } from './_core/jobs/types.ts'
import { sendMessageJob, sendMessageKind } from './email/outbound/delivery.ts'
import { extractMessageJob, extractMessageKind } from './email/extraction/extract-message.ts'
import { embedMessagesJob, embedMessagesKind } from './email/search/embed-messages.ts'
import { deleteDataJob, deleteDataKind } from './data/deletion-job.ts'
import { indexItemJob, indexItemKind } from './knowledge/indexing.ts'
import { judgeRunJob, judgeRunKind } from './judges/judge-run.ts'
import { reindexBaseJob, reindexBaseKind } from './knowledge/reindex.ts'
import { executeRunJob, executeRunKind } from './runs/execute.ts'
import { syncIndexesJob } from './datasets/index-sync.ts'
import { syncIndexesKind } from './datasets/indexes.ts'

export const jobHandlers: JobHandlers = {
  [indexItemKind]: indexItemJob(),
  [sendMessageKind]: sendMessageJob(),
  [extractMessageKind]: extractMessageJob(),
  [embedMessagesKind]: embedMessagesJob(),
  [reindexBaseKind]: reindexBaseJob,
  [deleteDataKind]: deleteDataJob,
  [executeRunKind]: executeRunJob(),
  [judgeRunKind]: judgeRunJob(),
  [syncIndexesKind]: syncIndexesJob,
}
