import fs from 'node:fs'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { applyMigrations, listMigrations } from '../../scripts/lib/migrations.ts'

// A database of its own on the run's server, so these checks start from nothing.
const name = `migrations_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
const serverUrl = inject('databaseUrl')
const url = serverUrl.replace(/\/postgres$/, `/${name}`)
let admin: postgres.Sql

beforeAll(async () => {
  admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
})
afterAll(async () => {
  await admin.unsafe(`drop database if exists ${name} with (force)`)
  await admin.end()
})

describe('the migrations', () => {
  it('are ordered by version and each file runs twice without error', async () => {
    const migrations = listMigrations()
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort())
    const db = postgres(url, { max: 1, onnotice: () => {} })
    try {
      for (const m of migrations) {
        const text = fs.readFileSync(m.file, 'utf8')
        await db.unsafe(text)
        await db.unsafe(text)
      }
      const [rls] = await db`select count(*)::int as tables from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname =
          'agentry' and c.relkind = 'r' and not c.relrowsecurity`
      expect(rls.tables).toBe(0)
      const [plans] = await db`select count(*)::int as n from agentry.plans`
      expect(plans.n).toBe(4)
    } finally {
      await db.end()
    }
  })

  it('are recorded where the supabase CLI records them, and a second run applies nothing', async () => {
    const fresh = `${name}_runner`
    await admin.unsafe(`create database ${fresh}`)
    const freshUrl = serverUrl.replace(/\/postgres$/, `/${fresh}`)
    try {
      const [first, second] = [await applyMigrations(freshUrl), await applyMigrations(freshUrl)]
      expect(first).toEqual(listMigrations().map((m) => `${m.version}_${m.name}`))
      expect(second).toEqual([])
      const db = postgres(freshUrl, { max: 1 })
      const rows = await db`select version, name from supabase_migrations.schema_migrations order by version`
      await db.end()
      expect(rows).toEqual(listMigrations().map((m) => ({ version: m.version, name: m.name })))
    } finally {
      await admin.unsafe(`drop database if exists ${fresh} with (force)`)
    }
  })

  it('let two starters race without applying anything twice', async () => {
    const raced = `${name}_race`
    await admin.unsafe(`create database ${raced}`)
    const racedUrl = serverUrl.replace(/\/postgres$/, `/${raced}`)
    try {
      const results = await Promise.all([applyMigrations(racedUrl), applyMigrations(racedUrl), applyMigrations(racedUrl)])
      expect(results.flat()).toHaveLength(listMigrations().length)
    } finally {
      await admin.unsafe(`drop database if exists ${raced} with (force)`)
    }
  })
})
