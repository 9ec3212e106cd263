import type postgres from 'postgres'
import { describe, expect, inject, it } from 'vitest'
import { CredentialCache, type CredentialTags } from '../../functions/_core/key-cache.ts'
import { listenForNotices } from '../../functions/_core/notices.ts'
import { authChannel } from '../../functions/_core/request-path.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

interface Held extends CredentialTags {
  name: string
}

const held = (name: string, tags: Partial<CredentialTags> = {}): Held => ({
  name,
  orgId: 'org-1',
  plan: 'free',
  keyId: null,
  userId: null,
  ...tags,
})

function cacheWithClock(options: { maxEntries?: number; heardTtlMs?: number | null; unheardTtlMs?: number } = {}) {
  let now = 1_000_000
  const cache = new CredentialCache<Held>({
    maxEntries: options.maxEntries ?? 100,
    heardTtlMs: options.heardTtlMs ?? null,
    unheardTtlMs: options.unheardTtlMs ?? 2000,
    now: () => now,
  })
  return { cache, advance: (ms: number) => (now += ms) }
}

const loaded = (value: Held | null) => async () => ({ value, answer: value ? 'ok' : 'refused' })

describe('the credential cache', () => {
  it('keeps a looked-up credential while changes are heard, until something it depends on changes', async () => {
    const { cache, advance } = cacheWithClock()
    cache.setHearing(true)
    await cache.load('k1', loaded(held('key one', { keyId: 'key-1' })))
    await cache.load('k2', loaded(held('key two', { keyId: 'key-2', orgId: 'org-2', plan: 'pro' })))
    await cache.load('u1', loaded(held('user', { userId: 'user-1', orgId: 'org-3' })))
    advance(3_600_000)
    expect(cache.get('k1')?.name).toBe('key one')

    cache.apply('key:key-1')
    expect(cache.get('k1')).toBeUndefined()
    expect(cache.get('k2')?.name).toBe('key two')
    cache.apply('plan:pro')
    expect(cache.get('k2')).toBeUndefined()
    cache.apply('org:org-2')
    expect(cache.get('u1')?.name).toBe('user')
    cache.apply('user:user-1')
    expect(cache.get('u1')).toBeUndefined()
  })

  it('forgets by organisation, and forgets everything on a notice it does not understand', async () => {
    const { cache } = cacheWithClock()
    cache.setHearing(true)
    await cache.load('a', loaded(held('a', { orgId: 'org-a' })))
    await cache.load('b', loaded(held('b', { orgId: 'org-b' })))
    await cache.load('c', loaded(held('c', { orgId: 'org-c' })))
    cache.apply('org:org-a')
    expect([cache.get('a'), cache.get('b')?.name]).toEqual([undefined, 'b'])
    cache.apply('something new')
    expect(cache.size).toBe(0)
  })

  it('keeps entries only for the short TTL while no change can be heard', async () => {
    const { cache, advance } = cacheWithClock({ unheardTtlMs: 2000 })
    await cache.load('k', loaded(held('k')))
    advance(1999)
    expect(cache.get('k')?.name).toBe('k')
    advance(1)
    expect(cache.get('k')).toBeUndefined()
  })

  it('forgets everything when hearing starts or stops', async () => {
    const { cache } = cacheWithClock()
    await cache.load('k', loaded(held('k')))
    cache.setHearing(true)
    expect(cache.get('k')).toBeUndefined()
    await cache.load('k', loaded(held('k')))
    cache.setHearing(false)
    expect(cache.size).toBe(0)
  })

  it('holds at most maxEntries, dropping the least recently used first', async () => {
    const { cache } = cacheWithClock({ maxEntries: 2 })
    cache.setHearing(true)
    await cache.load('a', loaded(held('a')))
    await cache.load('b', loaded(held('b')))
    cache.get('a')
    await cache.load('c', loaded(held('c')))
    expect([cache.get('a')?.name, cache.get('b'), cache.get('c')?.name]).toEqual(['a', undefined, 'c'])
  })

  it('shares one lookup among concurrent callers and never keeps a refusal', async () => {
    const { cache } = cacheWithClock()
    cache.setHearing(true)
    let lookups = 0
    let answer!: () => void
    const slow = async () => {
      lookups++
      await new Promise<void>((r) => (answer = r))
      return { value: null, answer: 'revoked' }
    }
    const asked = [cache.load('k', slow), cache.load('k', slow), cache.load('k', slow)]
    answer()
    const answers = await Promise.all(asked)
    expect(lookups).toBe(1)
    expect(answers.map((a) => a.answer)).toEqual(['revoked', 'revoked', 'revoked'])
    expect(cache.size).toBe(0)
  })

  it('does not keep a lookup that was in flight while something was forgotten', async () => {
    const { cache } = cacheWithClock()
    cache.setHearing(true)
    let release!: () => void
    const lookup = cache.load('k', async () => {
      await new Promise<void>((r) => (release = r))
      return { value: held('read before the change', { keyId: 'key-1' }), answer: 'ok' }
    })
    await new Promise((r) => setTimeout(r, 0))
    cache.forgetKey('key-1')
    // A request arriving after the change does not share the lookup that began before it.
    const fresh = cache.load('k', async () => ({ value: held('read after the change', { keyId: 'key-1' }), answer: 'ok' }))
    release()
    expect((await lookup).value?.name).toBe('read before the change')
    expect((await fresh).value?.name).toBe('read after the change')
    expect(cache.get('k')?.name).toBe('read after the change')
  })
})

describe('the credential change notices', () => {
  it("name a key's revocation, scope and expiry changes, an organisation's limit and a membership, but not usage counts", async () => {
    const t = await createTenant()
    const { id } = await t.keyWithId()
    const last = await createTenant()
    const notices: string[] = []
    const hearing: boolean[] = []
    const listener = listenForNotices(inject('databaseUrl'))
    listener.hear(authChannel, { onNotice: (n) => notices.push(n), onHearing: (h) => hearing.push(h) })
    try {
      await waitUntil(() => hearing.includes(true))
      const sql = serviceSql()
      await sql`update agentry.api_keys set call_count = call_count + 5, last_used_at = now() where id = ${id}`
      await sql`update agentry.api_keys set scopes = '{keys:read}' where id = ${id}`
      await sql`update agentry.api_keys set expires_at = now() + interval '1 day' where id = ${id}`
      await sql`update agentry.api_keys set status = 'revoked' where id = ${id}`
      await sql`update agentry.organisations set rate_limit_per_minute = 77 where id = ${t.org.id}`
      const [user] = await sql<{ id: string }[]>`insert into auth.users (id) values (gen_random_uuid()) returning id`
      await sql`insert into agentry.members (org_id, user_id, role) values (${t.org.id}, ${user.id}, 'member')`
      await sql`delete from agentry.api_keys where id = ${id}`
      // Notices arrive in commit order: once this last one is heard, every notice of the changes above has been.
      await sql`update agentry.organisations set rate_limit_per_minute = 78 where id = ${last.org.id}`
      await waitUntil(() => notices.includes(`org:${last.org.id}`))
      expect(notices).toEqual([
        `key:${id}`,
        `key:${id}`,
        `key:${id}`,
        `org:${t.org.id}`,
        `user:${user.id}`,
        `key:${id}`,
        `org:${last.org.id}`,
      ])
    } finally {
      await listener.stop()
    }
  })
})

describe("the request path's functions", () => {
  it('are not callable as a tenant', async () => {
    const t = await createTenant()
    const calls = [
      (tx: postgres.TransactionSql) => tx`select * from agentry.verify_key(${new Uint8Array(32)}, '{}')`,
      (tx: postgres.TransactionSql) => tx`select * from agentry.verify_member(${crypto.randomUUID()}, null, '{}')`,
      (tx: postgres.TransactionSql) => tx`select * from agentry.lease_rate_tokens(${t.org.id}, 1000000, 1000, 0, null)`,
      (tx: postgres.TransactionSql) =>
        tx`select agentry.return_rate_tokens(${[t.org.id]}::uuid[], ${[new Date().toISOString()]}::timestamptz[], '{1000}')`,
      (tx: postgres.TransactionSql) => tx`select agentry.record_key_usage('{}', '{}', '{}')`,
    ]
    for (const call of calls) {
      await expect(
        serviceSql().begin(async (tx) => {
          await tx`set local role authenticated`
          return call(tx)
        }),
      ).rejects.toMatchObject({ code: '42501' })
    }
  })
})

async function waitUntil(condition: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}
