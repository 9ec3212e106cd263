import postgres from 'postgres'
import { readEnv } from './env.ts'

export type Sql = postgres.Sql
export type Tx = postgres.TransactionSql

/** What a tenant query may see: the claims every RLS policy reads through auth.jwt(). */
export interface TenantClaims {
  role: 'authenticated'
  sub: string | null
  org_id: string
  agent_id: string | null
  key_id: string | null
  scopes: string[]
}

let client: Sql | undefined

/**
 * The process-wide connection pool, created on first use from DATABASE_URL (or SUPABASE_DB_URL, which
 * Supabase sets for every Edge Function). Behind a transaction-mode pooler set DATABASE_PREPARE=false.
 */
export function database(): Sql {
  if (client) return client
  const url = readEnv('DATABASE_URL') ?? readEnv('SUPABASE_DB_URL')
  if (!url) throw new Error('DATABASE_URL (or SUPABASE_DB_URL) is not set')
  client = postgres(url, {
    max: Number(readEnv('DATABASE_POOL_SIZE') ?? 10),
    prepare: readEnv('DATABASE_PREPARE') !== 'false',
    onnotice: () => {},
    connection: { application_name: 'agentry' },
  })
  return client
}

export async function closeDatabase(): Promise<void> {
  const c = client
  client = undefined
  await c?.end({ timeout: 5 })
}

/**
 * Runs `fn` in one transaction as the `authenticated` role with the tenant's claims, so RLS decides what
 * every statement inside can see or change. Role and claims are set in a single statement, local to the
 * transaction, so nothing leaks to the next user of the pooled connection.
 */
export function withTenant<T>(claims: TenantClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return database().begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`
    return fn(tx)
  }) as Promise<T>
}
