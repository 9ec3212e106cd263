// What `npm run bench` measures of the request path beyond throughput: the cold path (many keys, few
// cache hits), how fast a revocation on one API process reaches another, and how much of an organisation's
// limit two processes admit under steady overload.
import type postgres from 'postgres'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createOrganisation } from './admin.ts'

/** A plan for the bench's organisations: the request caps are the subject, the concurrency cap is not. */
export async function ensureBenchPlan(sql: postgres.Sql): Promise<string> {
  await sql`
    insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests)
    values ('bench', 'Bench', 100000000, 1000)
    on conflict (id) do update set max_concurrent_requests = 1000`
  return 'bench'
}

/** `orgs` organisations with `keysPerOrg` full-access keys each; returns the raw keys, shuffled. */
export async function seedColdKeys(sql: postgres.Sql, orgs: number, keysPerOrg: number): Promise<{ orgIds: string[]; keys: string[] }> {
  const plan = await ensureBenchPlan(sql)
  const orgIds: string[] = []
  const keys: string[] = []
  for (let o = 0; o < orgs; o++) {
    const org = await createOrganisation(sql, { name: `Cold-path organisation ${o + 1}`, plan, rateLimitPerMinute: 100_000_000 })
    orgIds.push(org.id)
    const issued = await Promise.all(
      Array.from({ length: keysPerOrg }, (_, k) =>
        issueKey(sql, { orgId: org.id, agentId: null, mode: null, name: `cold key ${k + 1}`, scopes: ['*'], expiresAt: null }),
      ),
    )
    keys.push(...issued.map((i) => i.key))
  }
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[keys[i], keys[j]] = [keys[j], keys[i]]
  }
  return { orgIds, keys }
}

interface Answer {
  sentAt: number
  receivedAt: number
  status: number
}

/** `callers` loops calling `url` with `key` until stopped, each pausing `pauseMs` between calls. */
function keepCalling(url: string, key: string, callers: number, pauseMs = 0) {
  const answers: Answer[] = []
  let running = true
  const done = Promise.all(
    Array.from({ length: callers }, async () => {
      while (running) {
        const sentAt = Date.now()
        const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } })
        await res.arrayBuffer()
        answers.push({ sentAt, receivedAt: Date.now(), status: res.status })
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
      }
    }),
  )
  return {
    answers,
    stop: async () => {
      running = false
      await done
    },
  }
}

/**
 * `trials` times: a fresh key, cached on process B, used there by four callers at once while process A
 * revokes it through the API; the time from A's answer to the first 401 on B.
 */
export async function measureRevocation(sql: postgres.Sql, apiA: string, apiB: string, trials: number) {
  const plan = await ensureBenchPlan(sql)
  const org = await createOrganisation(sql, { name: 'Bench revocation organisation', plan, rateLimitPerMinute: 100_000_000 })
  const admin = await issueKey(sql, { orgId: org.id, agentId: null, mode: null, name: 'admin', scopes: ['*'], expiresAt: null })
  const propagation: number[] = []
  const fromRequest: number[] = []
  let admittedAfter = 0
  for (let i = 0; i < trials; i++) {
    const victim = await issueKey(sql, {
      orgId: org.id,
      agentId: null,
      mode: null,
      name: `victim ${i + 1}`,
      scopes: ['*'],
      expiresAt: null,
    })
    const warm = await fetch(`${apiB}/me`, { headers: { authorization: `Bearer ${victim.key}` } })
    if (warm.status !== 200) throw new Error(`revocation: the new key was refused on B (${warm.status})`)
    const load = keepCalling(`${apiB}/me`, victim.key, 4)
    await new Promise((r) => setTimeout(r, 200))
    const askedAt = Date.now()
    const res = await fetch(`${apiA}/agent/api-keys/${victim.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.key}` } })
    const revokedAt = Date.now()
    if (res.status !== 200) throw new Error(`revocation: DELETE answered ${res.status}`)
    const deadline = revokedAt + 3000
    while (!load.answers.some((a) => a.status === 401 && a.receivedAt >= revokedAt) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1))
    }
    await new Promise((r) => setTimeout(r, 100))
    await load.stop()
    const first = load.answers.find((a) => a.status === 401)
    if (!first) throw new Error('revocation: B still admitted the key 3 s after it was revoked')
    // B often refuses the key before A's answer has reached the client: the notice leaves at commit.
    propagation.push(Math.max(0, first.receivedAt - revokedAt))
    fromRequest.push(first.receivedAt - askedAt)
    admittedAfter += load.answers.filter((a) => a.status === 200 && a.sentAt > first.receivedAt).length
  }
  await sql`delete from agentry.organisations where id = ${org.id}`
  const sorted = [...propagation].sort((a, b) => a - b)
  const sortedFromRequest = [...fromRequest].sort((a, b) => a - b)
  return {
    trials,
    // From A's answer to B's first refusal (0 when B refused first), and from the DELETE being sent.
    median_ms: sorted[Math.floor(sorted.length / 2)],
    max_ms: sorted[sorted.length - 1],
    from_request_median_ms: sortedFromRequest[Math.floor(sortedFromRequest.length / 2)],
    from_request_max_ms: sortedFromRequest[sortedFromRequest.length - 1],
    // Requests sent after B first refused the key and still admitted: must be none.
    admitted_after_first_refusal: admittedAfter,
  }
}

/**
 * An organisation with a limit of `limit` a minute, loaded through two API processes at several times that
 * rate until the end of the next full minute; the requests admitted in that full minute, over the limit.
 */
export async function measureAdmission(sql: postgres.Sql, apiA: string, apiB: string, limit: number) {
  const plan = await ensureBenchPlan(sql)
  const org = await createOrganisation(sql, { name: 'Bench admission organisation', plan, rateLimitPerMinute: limit })
  const key = await issueKey(sql, { orgId: org.id, agentId: null, mode: null, name: 'steady', scopes: ['*'], expiresAt: null })
  // Four callers per process, each pausing 40 ms: about 150 requests a second against `limit / 60`.
  const loads = [keepCalling(`${apiA}/me`, key.key, 4, 40), keepCalling(`${apiB}/me`, key.key, 4, 40)]
  const minuteStart = Math.ceil(Date.now() / 60_000) * 60_000
  const minuteEnd = minuteStart + 60_000
  await new Promise((r) => setTimeout(r, minuteEnd + 200 - Date.now()))
  await Promise.all(loads.map((l) => l.stop()))
  // Counted by when the server answered, the nearest a client can get to when the bucket counted it.
  const inMinute = (a: Answer) => a.receivedAt >= minuteStart && a.receivedAt < minuteEnd
  const per = loads.map((l) => l.answers.filter(inMinute))
  const admitted = per.map((answers) => answers.filter((a) => a.status === 200).length)
  const offered = per.reduce((n, answers) => n + answers.length, 0)
  const unexpected = per.flat().filter((a) => a.status !== 200 && a.status !== 429).length
  // The bucket's own count of that minute, once the processes have given back what they leased and did not
  // spend (within a second): the previous window's count, exact where client timings are not.
  await new Promise((r) => setTimeout(r, 1500))
  const [bucket] = await sql<{ counted: number }[]>`
    select case when window_start = ${new Date(minuteEnd).toISOString()}::timestamptz then previous_count
                when window_start = ${new Date(minuteStart).toISOString()}::timestamptz then current_count end as counted
    from agentry.rate_limits where org_id = ${org.id}`
  await sql`delete from agentry.organisations where id = ${org.id}`
  const total = admitted[0] + admitted[1]
  return {
    limit_per_minute: limit,
    offered_in_minute: offered,
    admitted_in_minute: total,
    admitted_by_process: admitted,
    bucket_counted_in_minute: bucket?.counted ?? null,
    fraction: total / limit,
    unexpected_statuses: unexpected,
  }
}
