// `npm run cli -- <command>`: the operator's actions on the service connection (organisations, agents,
// keys), for bootstrapping a tenant before anyone holds a key. DATABASE_URL picks the database; without it
// the CLI uses the local dev database under .data/, starting it (and stopping it again) if it is not running.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import postgres from 'postgres'
import { ScopeSchema } from '../functions/_core/scopes.ts'
import { isUuid } from '../functions/_core/uuid.ts'
import { issueKey } from '../functions/keys/issue-key.ts'
import { listKeys, revokeKey } from '../functions/keys/queries.ts'
import {
  addMember,
  createAgent,
  createOrganisation,
  findAgentOfOrg,
  findOrganisation,
  listAgentsOfOrg,
  listMembersOfOrg,
  listOrganisations,
  setOrganisationRateLimit,
} from './lib/admin.ts'
import { startLocalPostgres, type LocalPostgres } from './lib/embedded-postgres.ts'
import { applyMigrations } from './lib/migrations.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Bad input or a missing row: printed as one line on stderr, exit code 1. */
class CliError extends Error {}

type Values = Record<string, string | boolean | undefined>

interface Command<Input> {
  usage: string
  options: NonNullable<ParseArgsConfig['options']>
  /** Whether the command takes one positional argument (`keys revoke <keyId>`). */
  takesArgument?: boolean
  /** Checks the input before any database is opened, so a typo never starts Postgres. */
  parse(values: Values, argument: string | undefined): Input
  run(sql: postgres.Sql, input: Input): Promise<unknown>
  /** The readable form of what run returned; --json prints it as JSON instead. */
  // biome-ignore lint/suspicious/noExplicitAny: each command's show takes what its own run returned
  show(result: any): string
}

const command = <Input>(c: Command<Input>): Command<Input> => c

// The rows of agentry.plans that the migrations seed.
const plans = ['free', 'pro', 'enterprise']

// biome-ignore lint/suspicious/noExplicitAny: each command pairs its own parse's output with its own run's input
const commands: Record<string, Command<any>> = {
  'orgs create': command({
    usage: 'orgs create --name <name> [--plan free|pro|enterprise] [--rate-limit <per minute>]',
    options: { name: { type: 'string' }, plan: { type: 'string' }, 'rate-limit': { type: 'string' } },
    parse: (v) => ({
      name: nameOption(v, 'name'),
      plan: planOption(v),
      rateLimitPerMinute: v['rate-limit'] === undefined ? null : perMinute(v, 'rate-limit'),
    }),
    run: (sql, org) => createOrganisation(sql, org),
    show: (org) => formatRecord(org),
  }),

  'orgs list': command({
    usage: 'orgs list',
    options: {},
    parse: () => ({}),
    run: (sql) => listOrganisations(sql),
    show: (orgs) => formatTable(orgs, ['id', 'name', 'plan', 'rate_limit_per_minute', 'created_at']),
  }),

  'orgs set-rate-limit': command({
    usage: 'orgs set-rate-limit --org <id> --per-minute <n|default>',
    options: { org: { type: 'string' }, 'per-minute': { type: 'string' } },
    parse: (v) => ({
      orgId: uuidOption(v, 'org'),
      // `default` clears the override, so the plan's limit applies again.
      perMinute: v['per-minute'] === 'default' ? null : perMinute(v, 'per-minute'),
    }),
    run: async (sql, { orgId, perMinute }) => {
      await existingOrganisation(sql, orgId)
      await setOrganisationRateLimit(sql, orgId, perMinute)
      return existingOrganisation(sql, orgId)
    },
    show: (org) => formatRecord(org),
  }),

  'agents create': command({
    usage: 'agents create --org <id> --name <name>',
    options: { org: { type: 'string' }, name: { type: 'string' } },
    parse: (v) => ({ orgId: uuidOption(v, 'org'), name: nameOption(v, 'name') }),
    run: async (sql, agent) => {
      await existingOrganisation(sql, agent.orgId)
      return createAgent(sql, agent)
    },
    show: (agent) => formatRecord(agent),
  }),

  'agents list': command({
    usage: 'agents list --org <id>',
    options: { org: { type: 'string' } },
    parse: (v) => ({ orgId: uuidOption(v, 'org') }),
    run: async (sql, { orgId }) => {
      await existingOrganisation(sql, orgId)
      return listAgentsOfOrg(sql, orgId)
    },
    show: (agents) => formatTable(agents, ['id', 'name', 'created_at']),
  }),

  'members add': command({
    usage: 'members add --org <id> --user <Supabase Auth user id> --role owner|admin|member [--email <email>]',
    options: { org: { type: 'string' }, user: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' } },
    parse: (v) => ({
      orgId: uuidOption(v, 'org'),
      userId: uuidOption(v, 'user'),
      role: roleOption(v),
      email: typeof v.email === 'string' ? v.email : undefined,
    }),
    run: async (sql, member) => {
      await existingOrganisation(sql, member.orgId)
      await addMember(sql, member)
      return { org_id: member.orgId, user_id: member.userId, role: member.role }
    },
    show: (member) => formatRecord(member),
  }),

  'members list': command({
    usage: 'members list --org <id>',
    options: { org: { type: 'string' } },
    parse: (v) => ({ orgId: uuidOption(v, 'org') }),
    run: async (sql, { orgId }) => {
      await existingOrganisation(sql, orgId)
      return listMembersOfOrg(sql, orgId)
    },
    show: (members) => formatTable(members, ['user_id', 'email', 'role', 'created_at']),
  }),

  'keys create': command({
    usage: 'keys create --org <id> [--agent <id>] [--mode live|test] [--scopes a,b] [--name <name>] [--expires-at <ISO date>]',
    options: {
      org: { type: 'string' },
      agent: { type: 'string' },
      mode: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
      'expires-at': { type: 'string' },
    },
    parse: (v) => {
      const agentId = v.agent === undefined ? null : uuidOption(v, 'agent')
      return {
        orgId: uuidOption(v, 'org'),
        agentId,
        mode: modeOption(v, agentId),
        name: v.name === undefined ? 'cli key' : nameOption(v, 'name'),
        scopes: v.scopes === undefined ? ['*'] : scopesOption(v),
        expiresAt: v['expires-at'] === undefined ? null : expiryOption(v),
      }
    },
    run: async (sql, key) => {
      await existingOrganisation(sql, key.orgId)
      if (key.agentId && !(await findAgentOfOrg(sql, key.orgId, key.agentId))) {
        throw new CliError(`No agent ${key.agentId} in organisation ${key.orgId}.`)
      }
      return issueKey(sql, key)
    },
    show: ({ key, ...row }) => `Key created. This is the only time the raw key is shown; store it now:\n\n  ${key}\n\n${formatRecord(row)}`,
  }),

  'keys list': command({
    usage: 'keys list --org <id>',
    options: { org: { type: 'string' } },
    parse: (v) => ({ orgId: uuidOption(v, 'org') }),
    run: async (sql, { orgId }) => {
      await existingOrganisation(sql, orgId)
      return listKeys(sql, orgId)
    },
    show: (keys) => formatTable(keys, ['id', 'name', 'prefix', 'agent_id', 'mode', 'scopes', 'status', 'expires_at', 'last_used_at']),
  }),

  'keys revoke': command({
    usage: 'keys revoke <keyId>   (or --id <keyId>)',
    options: { id: { type: 'string' } },
    takesArgument: true,
    parse: (v, argument) => {
      if (argument !== undefined && v.id !== undefined) throw new CliError('Give the key id once: as an argument or with --id.')
      return { id: uuidOption({ id: argument ?? v.id }, 'id') }
    },
    run: async (sql, { id }) => {
      if (!(await revokeKey(sql, id))) throw new CliError(`No key ${id}.`)
      return { id, status: 'revoked' }
    },
    show: ({ id }) => `Revoked key ${id}.`,
  }),
}

const usage = `Usage: npm run cli -- <command> [options]

Operator actions on the database in DATABASE_URL (or the local dev database under .data/).

Commands:
${Object.values(commands)
  .map((c) => `  ${c.usage}`)
  .join('\n')}
  help

Every command accepts --json to print machine-readable JSON on stdout.`

// Input checks. Each throws a CliError naming the option at fault.

function required(v: Values, option: string): string {
  const value = v[option]
  if (typeof value !== 'string' || value === '') throw new CliError(`Missing --${option}.`)
  return value
}

function uuidOption(v: Values, option: string): string {
  const value = required(v, option)
  if (!isUuid(value)) throw new CliError(`--${option} must be a UUID, not "${value}".`)
  return value.toLowerCase()
}

function nameOption(v: Values, option: string): string {
  const value = required(v, option).trim()
  if (value.length === 0 || value.length > 200) throw new CliError(`--${option} must be 1 to 200 characters.`)
  return value
}

const roles = ['owner', 'admin', 'member'] as const

function roleOption(v: Values): (typeof roles)[number] {
  const role = required(v, 'role')
  if (!(roles as readonly string[]).includes(role)) throw new CliError(`--role must be one of ${roles.join(', ')}; got "${role}".`)
  return role as (typeof roles)[number]
}

function planOption(v: Values): string {
  const plan = v.plan ?? 'free'
  if (typeof plan !== 'string' || !plans.includes(plan)) throw new CliError(`Unknown plan "${plan}". Plans: ${plans.join(', ')}.`)
  return plan
}

function perMinute(v: Values, option: string): number {
  const value = required(v, option)
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 2_147_483_647)
    throw new CliError(`--${option} must be a whole number of requests per minute, not "${value}".`)
  return n
}

function modeOption(v: Values, agentId: string | null): 'live' | 'test' | null {
  if (!agentId) {
    if (v.mode !== undefined) throw new CliError('--mode applies to agent keys only; add --agent <id>.')
    return null
  }
  const mode = v.mode ?? 'live'
  if (mode !== 'live' && mode !== 'test') throw new CliError(`--mode must be live or test, not "${mode}".`)
  return mode
}

function scopesOption(v: Values): string[] {
  const scopes = required(v, 'scopes')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (scopes.length === 0) throw new CliError('--scopes must list at least one scope.')
  for (const scope of scopes) {
    const result = ScopeSchema.safeParse(scope)
    if (!result.success) throw new CliError(`Invalid scope "${scope}": ${result.error.issues[0]?.message ?? 'unknown scope.'}`)
  }
  return [...new Set(scopes)]
}

function expiryOption(v: Values): string {
  const value = required(v, 'expires-at')
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new CliError(`--expires-at must be an ISO date, not "${value}".`)
  if (date.getTime() <= Date.now()) throw new CliError('--expires-at must be in the future.')
  return date.toISOString()
}

async function existingOrganisation(sql: postgres.Sql, id: string) {
  const org = await findOrganisation(sql, id)
  if (!org) throw new CliError(`No organisation ${id}.`)
  return org
}

// Readable output.

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.join(',')
  return String(value)
}

function formatRecord(record: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(record).map((k) => k.length))
  return Object.entries(record)
    .map(([k, v]) => `${k.padEnd(width)}  ${formatValue(v)}`)
    .join('\n')
}

function formatTable(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((c) => formatValue(row[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [line(columns), ...cells.map(line)].join('\n')
}

// The database.

interface Database {
  sql: postgres.Sql
  close(): Promise<void>
}

async function openDatabase(): Promise<Database> {
  const configured = process.env.DATABASE_URL
  if (configured) return connect(configured)

  const port = Number(process.env.DB_PORT ?? 54322)
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
  let started: LocalPostgres | undefined
  // `npm start` may already be running it; a second server on the same data folder would fail.
  if (!(await answers(url))) {
    console.error(`Starting the local database (.data/postgres, port ${port}) …`)
    started = await startLocalPostgres({ dataDir: path.join(root, '.data', 'postgres'), port })
  }
  try {
    await applyMigrations(url)
  } catch (error) {
    await started?.stop()
    throw error
  }
  const db = connect(url)
  return {
    sql: db.sql,
    close: async () => {
      try {
        await db.close()
      } finally {
        await started?.stop()
      }
    },
  }
}

function connect(url: string): Database {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'agentry-cli' } })
  return { sql, close: () => sql.end({ timeout: 5 }) }
}

async function answers(url: string): Promise<boolean> {
  const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
  try {
    await probe`select 1`
    return true
  } catch {
    return false
  } finally {
    await probe.end({ timeout: 1 })
  }
}

// Dispatch.

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0])) {
    console.log(usage)
    return
  }
  const name = argv.slice(0, 2).join(' ')
  const cmd = commands[name]
  if (!cmd) throw new CliError(`Unknown command "${name}". Run "npm run cli -- help" for the list.`)

  const { values, positionals } = parseArgs({
    args: argv.slice(2),
    options: { ...cmd.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  })
  if (values.help) {
    console.log(`Usage: npm run cli -- ${cmd.usage} [--json]`)
    return
  }
  if (positionals.length > (cmd.takesArgument ? 1 : 0)) throw new CliError(`Unexpected argument "${positionals.at(-1)}".`)

  let input: unknown
  try {
    input = cmd.parse(values, positionals[0])
  } catch (error) {
    if (error instanceof CliError) throw new CliError(`${error.message} Usage: npm run cli -- ${cmd.usage}`)
    throw error
  }

  const db = await openDatabase()
  try {
    const result = await cmd.run(db.sql, input)
    console.log(values.json ? JSON.stringify(result, null, 2) : cmd.show(result))
  } finally {
    await db.close()
  }
}

// Operators get one line, never a stack trace: bad input, a missing row, or what Postgres said.
function describeError(error: unknown): string {
  if (error instanceof postgres.PostgresError) return `Database error: ${error.message}`
  if ((error as { code?: string }).code === 'ECONNREFUSED') return `Cannot reach the database: ${(error as Error).message}`
  if (error instanceof Error) return error.message.split('\n')[0] || error.name
  return String(error)
}

// Exits explicitly once stdout is flushed: embedded-postgres installs a beforeExit hook that would otherwise
// end the process with code 0 whatever process.exitCode says.
const exit = (code: number) => process.stdout.write('', () => process.exit(code))

main(process.argv.slice(2)).then(
  () => exit(0),
  (error) => {
    console.error(describeError(error))
    exit(1)
  },
)
