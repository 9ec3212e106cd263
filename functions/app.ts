import { createApi, createServerApp } from './_core/app.ts'
import { registerDocs } from './_core/openapi.ts'
import { registerListAuditLogs } from './audit/list-audit-logs.ts'
import { registerCreateKey } from './keys/create-key.ts'
import { registerDeleteKey } from './keys/delete-key.ts'
import { registerGetKey } from './keys/get-key.ts'
import { registerListKeys } from './keys/list-keys.ts'
import { registerRotateKey } from './keys/rotate-key.ts'
import { registerGetMe } from './me/get-me.ts'
import { registerGetOrg } from './org/get-org.ts'
import { registerUpdateOrg } from './org/update-org.ts'

/** The Agentry API, runtime-neutral: `app.fetch` serves it under Deno (Supabase) and Node alike. */
export function createApp() {
  const v1 = createApi()

  registerGetMe(v1)
  registerGetOrg(v1)
  registerUpdateOrg(v1)

  registerListKeys(v1)
  registerGetKey(v1)
  registerCreateKey(v1)
  registerRotateKey(v1)
  registerDeleteKey(v1)

  registerListAuditLogs(v1)

  registerDocs(v1)
  return createServerApp(v1)
}

export const app = createApp()
