import type { Tx } from '../_core/db.ts'

export interface OrgRow {
  id: string
  name: string
  plan: string
  rate_limit_per_minute: number
  environments: { id: string; name: string }[]
  created_at: string
  updated_at: string
}

/** The caller's organisation: RLS shows a tenant its own row only, so no id is needed. */
export async function findOwnOrg(tx: Tx): Promise<OrgRow | undefined> {
  const [row] = await tx<OrgRow[]>`
    select o.id, o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute) as rate_limit_per_minute,
      coalesce((select json_agg(json_build_object('id', e.id, 'name', e.name) order by e.created_at, e.name)
                from agentry.environments e where e.org_id = o.id), '[]') as environments,
      to_json(o.created_at) #>> '{}' as created_at, to_json(o.updated_at) #>> '{}' as updated_at
    from agentry.organisations o join agentry.plans p on p.id = o.plan`
  return row
}

export async function renameOwnOrg(tx: Tx, name: string): Promise<boolean> {
  const rows = await tx`update agentry.organisations set name = ${name} returning id`
  return rows.length === 1
}
