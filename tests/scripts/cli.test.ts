import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const execFileAsync = promisify(execFile)

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI as an operator would, in its own process, against the run's database. */
async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync('node_modules/.bin/tsx', ['scripts/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string }
    if (typeof failed.code !== 'number') throw error
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

async function cliJson(...args: string[]) {
  const result = await cli(...args, '--json')
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout)
}

const newOrg = () => cliJson('orgs', 'create', '--name', `CLI org ${crypto.randomUUID().slice(0, 8)}`, '--rate-limit', '100000')

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

describe('organisations', () => {
  it('creates an organisation and prints it as JSON', async () => {
    const org = await cliJson('orgs', 'create', '--name', 'Acme', '--plan', 'pro', '--rate-limit', '120')
    expect(org).toMatchObject({ name: 'Acme', plan: 'pro', rate_limit_per_minute: 120 })
    expect(org.id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('lists organisations, including one just created', async () => {
    const org = await newOrg()
    const orgs = await cliJson('orgs', 'list')
    expect(orgs.map((o: { id: string }) => o.id)).toContain(org.id)
    const text = await cli('orgs', 'list')
    expect(text.stdout).toContain(org.id)
  })

  it('sets a rate limit and clears it back to the plan default', async () => {
    const org = await newOrg()
    expect(await cliJson('orgs', 'set-rate-limit', '--org', org.id, '--per-minute', '5')).toMatchObject({
      id: org.id,
      rate_limit_per_minute: 5,
    })
    expect(await cliJson('orgs', 'set-rate-limit', '--org', org.id, '--per-minute', 'default')).toMatchObject({
      id: org.id,
      rate_limit_per_minute: null,
    })
  })
})

describe('agents and keys', () => {
  it('creates an organisation token (pk_) that the API accepts', async () => {
    const org = await newOrg()
    const created = await cliJson('keys', 'create', '--org', org.id)
    expect(created.key).toMatch(/^pk_[0-9a-f]{32}$/)
    expect(created).toMatchObject({ name: 'cli key', kind: 'org', scopes: ['*'], status: 'active' })

    const me = await api.call('GET', '/me', { key: created.key })
    expect(me.status).toBe(200)
    expect(me.body.data).toMatchObject({ credential: 'org_key', org: { id: org.id }, key: { id: created.id } })
  })

  it('creates an agent and a live agent key (ck_live_) bound to it', async () => {
    const org = await newOrg()
    const agent = await cliJson('agents', 'create', '--org', org.id, '--name', 'Support bot')
    expect(agent).toMatchObject({ name: 'Support bot' })

    const created = await cliJson('keys', 'create', '--org', org.id, '--agent', agent.id, '--name', 'bot key')
    expect(created.key).toMatch(/^ck_live_[0-9a-f]{32}$/)
    const me = await api.call('GET', '/me', { key: created.key })
    expect(me.status).toBe(200)
    expect(me.body.data).toMatchObject({ credential: 'agent_key', org: { id: org.id }, agent_id: agent.id, key: { mode: 'live' } })
  })

  it('grants exactly the scopes given with --scopes', async () => {
    const org = await newOrg()
    const created = await cliJson('keys', 'create', '--org', org.id, '--scopes', 'datasets:read,*:read')
    const me = await api.call('GET', '/me', { key: created.key })
    expect(me.status).toBe(200)
    expect(me.body.data.scopes).toEqual(['datasets:read', '*:read'])
  })

  it('lists keys by id without ever printing the raw key', async () => {
    const org = await newOrg()
    const created = await cliJson('keys', 'create', '--org', org.id)
    const listed = await cli('keys', 'list', '--org', org.id, '--json')
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout).map((k: { id: string }) => k.id)).toContain(created.id)
    expect(listed.stdout).not.toContain(created.key)
    expect((await cli('keys', 'list', '--org', org.id)).stdout).not.toContain(created.key)
  })

  it('revokes a key so the API answers 401 to it', async () => {
    const org = await newOrg()
    const created = await cliJson('keys', 'create', '--org', org.id)
    expect((await api.call('GET', '/me', { key: created.key })).status).toBe(200)

    const revoked = await cli('keys', 'revoke', created.id)
    expect(revoked.code, revoked.stderr).toBe(0)
    expect((await api.call('GET', '/me', { key: created.key })).status).toBe(401)
  })
})

describe('members', () => {
  it('adds a Supabase Auth user as an admin, whose access token then manages keys', async () => {
    const secret = 'cli-test-jwt-secret-cli-test-jwt-secret-0123456789'
    process.env.SUPABASE_JWT_SECRET = secret
    const org = await newOrg()
    const userId = crypto.randomUUID()
    const added = await cliJson('members', 'add', '--org', org.id, '--user', userId, '--role', 'admin', '--email', 'ops@example.com')
    expect(added).toEqual({ org_id: org.id, user_id: userId, role: 'admin' })
    const listed = await cliJson('members', 'list', '--org', org.id)
    expect(listed).toEqual([expect.objectContaining({ user_id: userId, email: 'ops@example.com', role: 'admin' })])

    const token = await new SignJWT({ role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setAudience('authenticated')
      .setIssuer('http://127.0.0.1:54321/auth/v1')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret))
    const created = await api.call('POST', '/agent/api-keys', { key: token, body: { name: 'from the dashboard' } })
    expect(created.status).toBe(201)

    await cliJson('members', 'add', '--org', org.id, '--user', userId, '--role', 'member')
    const refused = await api.call('POST', '/agent/api-keys', { key: token, body: { name: 'no longer' } })
    expect(refused.status).toBe(403)
  })

  it('refuses an unknown role', async () => {
    const org = await newOrg()
    const result = await cli('members', 'add', '--org', org.id, '--user', crypto.randomUUID(), '--role', 'superuser')
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toContain('--role must be one of owner, admin, member; got "superuser".')
  })
})

describe('bad input', () => {
  const missingOrg = '00000000-0000-4000-8000-000000000000'

  it.each([
    { what: 'a missing --org', args: ['keys', 'create'], message: 'Missing --org' },
    { what: 'an --org that is not a UUID', args: ['keys', 'list', '--org', 'acme'], message: 'must be a UUID' },
    {
      what: 'an unknown scope',
      args: ['keys', 'create', '--org', missingOrg, '--scopes', 'datasets:admin'],
      message: 'Invalid scope "datasets:admin"',
    },
    { what: 'an unknown plan', args: ['orgs', 'create', '--name', 'x', '--plan', 'gold'], message: 'Unknown plan "gold"' },
    { what: 'an unknown command', args: ['orgs', 'delete'], message: 'Unknown command "orgs delete"' },
    { what: 'an unknown option', args: ['orgs', 'list', '--verbose'], message: "Unknown option '--verbose'" },
    {
      what: 'an organisation that does not exist',
      args: ['keys', 'create', '--org', missingOrg],
      message: `No organisation ${missingOrg}.`,
    },
    { what: 'a key that does not exist', args: ['keys', 'revoke', missingOrg], message: `No key ${missingOrg}.` },
  ])('exits 1 with a one-line message and no stack trace for $what', async ({ args, message }) => {
    const result = await cli(...args)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).not.toContain('    at ')
  })

  it('refuses an agent of another organisation', async () => {
    const org = await newOrg()
    const other = await newOrg()
    const agent = await cliJson('agents', 'create', '--org', other.id, '--name', 'Elsewhere')
    const result = await cli('keys', 'create', '--org', org.id, '--agent', agent.id)
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toBe(`No agent ${agent.id} in organisation ${org.id}.`)
  })

  it('prints usage for help and for no arguments', async () => {
    for (const args of [['help'], [], ['--help']]) {
      const result = await cli(...args)
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('keys create --org <id>')
    }
  })
})
