// The kinds of background job the product runs, by name, as app.ts composes the routes: each runner
// (`npm start`, `npm run worker`, the Supabase worker function) claims the kinds listed here.
import type { JobHandlers } from './_core/jobs/types.ts'
import { indexItemJob, indexItemKind } from './knowledge/indexing.ts'

export const jobHandlers: JobHandlers = {
  [indexItemKind]: indexItemJob(),
}
