import postgres from 'postgres'
import { takeRowQueryTurn } from './concurrency.ts'
import { readEnv } from './env.ts'

export type Sql = postgres.Sql
/** What a tenant callback queries through: one connection, inside withTenant's transaction. */
export type Tx = postgres.ReservedSql
/** What a query shared with the scripts runs on: a route's Tx, a script's pool, or a transaction it began. */
export type Db = Sql | postgres.TransactionSql

/** What a tenant query may see: the claims every RLS policy reads through auth.jwt(). */
export interface TenantClaims {
  role: 'authenticated'
  sub: string | null
  org_id: string
  agent_id: string | null
  key_id: string | null
  scopes: string[]
}

/**
 * A write made through the API, to be recorded in the audit log by the first tenant transaction of its
 * request, before that transaction's COMMIT (see audit.ts). `status` is what the route answers when the
 * write succeeds; `entryId` is set once the entry is written.
 */
export interface AuditedWrite {
  method: string
  path: string
  status: number
  requestId: string
  entryId?: string
}

/** The claims a tenant transaction runs with, and the API write it records, if any. */
export interface Tenant extends TenantClaims {
  write?: AuditedWrite
}

let client: Sql | undefined
let authClient: Sql | undefined

/**
 * The process-wide connection pool for tenant work, created on first use from DATABASE_URL (or
 * SUPABASE_DB_URL, which Supabase sets for every Edge Function; there it is one pool per isolate). Behind a
 * transaction-mode pooler set DATABASE_PREPARE=false.
 */
export function database(): Sql {
  client ??= connect(Number(readEnv('DATABASE_POOL_SIZE') ?? 10))
  return client
}

/**
 * A small pool of its own for authenticating requests (DATABASE_AUTH_POOL_SIZE, default 2): however long
 * one tenant's queries hold the main pool, another tenant's request is still let in (or refused) at once.
 */
export function authDatabase(): Sql {
  authClient ??= connect(Number(readEnv('DATABASE_AUTH_POOL_SIZE') ?? 2))
  return authClient
}

function connect(max: number): Sql {
  const url = readEnv('DATABASE_URL') ?? readEnv('SUPABASE_DB_URL')
  if (!url) throw new Error('DATABASE_URL (or SUPABASE_DB_URL) is not set')
  return postgres(url, {
    max,
    prepare: readEnv('DATABASE_PREPARE') !== 'false',
    onnotice: () => {},
    // Timestamps leave the database as ISO 8601 in UTC, whatever the server's own time zone.
    connection: { application_name: 'agentry', TimeZone: 'UTC' },
  })
}

const closing: (() => Promise<void>)[] = []

/**
 * Work that must finish while the pools are still open when the process stops cleanly: the request path
 * writes its usage counts and gives leased rate-limit tokens back (request-path.ts).
 */
export function beforeDatabaseCloses(step: () => Promise<void>): void {
  if (!closing.includes(step)) closing.push(step)
}

/** Runs the steps registered with beforeDatabaseCloses, then ends both pools. */
export async function closeDatabase(): Promise<void> {
  for (const step of closing) {
    await step().catch((error) => console.error('closing the database:', error instanceof Error ? error.message : error))
  }
  const pools = [client, authClient]
  client = undefined
  authClient = undefined
  await Promise.all(pools.map((pool) => pool?.end({ timeout: 5 })))
}

export interface TenantOptions {
  /**
   * Cancels any statement of the transaction that runs longer (statement_timeout, 57014). Work given a
   * timeout is work whose cost the caller shapes (dataset row queries) and which can keep a database core
   * busy for that long, so while other organisations are active it is also rationed per organisation and
   * process (see takeRowQueryTurn): ROW_QUERY_CONCURRENCY such transactions at once (default 1), and beyond
   * their first 100 ms keeping a core at most ROW_QUERY_SHARE of the time (default 0.25). The rest wait their
   * turn without holding a connection; the organisation's cap on requests in flight bounds how many wait.
   */
  statementTimeoutMs?: number
}

const rowQueryFreeMs = 100

function takeRowQueryRation(orgId: string) {
  const concurrency = Number(readEnv('ROW_QUERY_CONCURRENCY') ?? 1) || 1 // not a number: 1
  const share = Number(readEnv('ROW_QUERY_SHARE') ?? 0.25)
  return takeRowQueryTurn(orgId, Math.max(concurrency, 1), share > 0 && share <= 1 ? share : 0.25, rowQueryFreeMs)
}

/**
 * Runs `fn` in one transaction as the `authenticated` role with the tenant's claims, so RLS decides what
 * every statement inside can see or change. BEGIN, the role and the claims travel as one message that is
 * not awaited: the driver sends it in the same write as `fn`'s first statement, which the server then runs
 * after it, so tenant work costs its own statements plus the COMMIT. When `fn` hands back its one statement
 * unsent (returns the query itself, not awaited), the COMMIT goes in that same write too. Role and claims
 * are transaction-local: nothing leaks to the next user of the pooled connection.
 */
export async function withTenant<T>(claims: Tenant, fn: (tx: Tx) => Promise<T>, options: TenantOptions = {}): Promise<T> {
  const timeout = options.statementTimeoutMs
  const turn = timeout ? await takeRowQueryRation(claims.org_id) : undefined
  try {
    return await inTransaction(claims, fn, timeout)
  } finally {
    turn?.()
  }
}

async function inTransaction<T>(claims: Tenant, fn: (tx: Tx) => Promise<T>, timeout: number | undefined): Promise<T> {
  const conn = await database().reserve()
  try {
    // Queries are lazy: execute() puts this one on the wire now, ahead of anything `fn` sends.
    // SET LOCAL rather than set_config(): utility statements skip the planner and answer no row, which the
    // bench measured at about 8 % of the key listing's throughput.
    const begun = conn
      .unsafe(beginAs(claims) + (timeout ? `; set local statement_timeout = ${Math.max(1, Math.round(timeout))}` : ''))
      .execute()
    const work = fn(conn)
    if (isUnsent(work)) {
      // The whole transaction is the callback's one statement: it and the COMMIT go out in the same write as
      // BEGIN, one round trip in all. A failed statement leaves the transaction aborted, where COMMIT rolls
      // back, so the connection goes back clean either way.
      const sent = work.execute()
      const recorded = sendAuditEntry(conn, claims.write)
      const committed = conn.unsafe('commit').execute()
      const settled = Promise.allSettled([begun, sent, recorded, committed])
      try {
        const [, result, entryId] = await Promise.all([begun, sent, recorded, committed])
        noteRecorded(claims.write, entryId)
        return result as T
      } catch (error) {
        await settled
        await conn.unsafe('rollback').catch(() => {})
        throw error
      }
    }
    let result: T
    try {
      ;[, result] = await Promise.all([begun, work])
    } catch (error) {
      await begun.catch(() => {})
      await conn.unsafe('rollback').catch(() => {})
      throw error
    }
    // A failed audit entry aborts the transaction, and COMMIT then rolls the change back with it.
    const recorded = sendAuditEntry(conn, claims.write)
    const committed = conn.unsafe('commit').execute()
    const [entryId] = await Promise.all([recorded, committed])
    noteRecorded(claims.write, entryId)
    return result
  } finally {
    conn.release()
  }
}

// A credential's claims are one frozen object for as long as it is cached (auth.ts): their text is built
// once, not on every request.
const begins = new WeakMap<TenantClaims, string>()

/** BEGIN, the role and the claims, as one simple-protocol message. */
function beginAs(claims: Tenant): string {
  const kept = Object.isFrozen(claims) ? begins.get(claims) : undefined
  if (kept) return kept
  const text = `begin; set local role authenticated; set local request.jwt.claims = ${sqlLiteral(claimsJson(claims))}`
  if (Object.isFrozen(claims)) begins.set(claims, text)
  return text
}

/** The claims as RLS reads them: the write being recorded is not one of them. */
function claimsJson(t: Tenant): string {
  return JSON.stringify({ role: t.role, sub: t.sub, org_id: t.org_id, agent_id: t.agent_id, key_id: t.key_id, scopes: t.scopes })
}

/** Sends the audit entry of the request's write, unless an earlier transaction of the request wrote it. */
function sendAuditEntry(conn: Tx, write: AuditedWrite | undefined): Promise<string | undefined> {
  if (!write || write.entryId !== undefined) return Promise.resolve(undefined)
  return conn<
    { id: string }[]
  >`select agentry.record_write(${write.method}, ${write.path}, ${write.status}, ${write.requestId})::text as id`
    .execute()
    .then(([row]) => row.id)
}

function noteRecorded(write: AuditedWrite | undefined, entryId: string | undefined) {
  if (write && entryId !== undefined) write.entryId = entryId
}

/** A postgres.js query not yet sent: queries are lazy until awaited or executed. */
function isUnsent(value: unknown): value is postgres.PendingQuery<postgres.Row[]> {
  const query = value as { execute?: unknown; executed?: unknown } | null
  return typeof query?.execute === 'function' && query.executed === false
}

/**
 * A string literal for the simple query protocol, which takes no bind parameters. Only ever applied to
 * JSON we serialised ourselves; with standard_conforming_strings (on by default since PostgreSQL 9.1 and on
 * Supabase) doubling single quotes is the complete escape.
 */
function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}
