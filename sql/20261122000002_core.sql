-- Core tenancy: organisations, their members, environments, agents and API keys, the shared rate-limit
-- bucket and the audit log. Every tenant table has RLS; policies read the claims that withTenant puts in
-- request.jwt.claims (org_id, agent_id, key_id, scopes), so a handler bug cannot reach another tenant.

create schema if not exists agentry;
grant usage on schema agentry to authenticated, service_role;

-- Claims helpers. Policies call them as (select …) so Postgres evaluates them once per statement.
create or replace function agentry.claim_org_id() returns uuid
  language sql stable set search_path = ''
  as $$ select nullif(auth.jwt() ->> 'org_id', '')::uuid $$;

create or replace function agentry.claim_agent_id() returns uuid
  language sql stable set search_path = ''
  as $$ select nullif(auth.jwt() ->> 'agent_id', '')::uuid $$;

-- Scope grammar, the one implementation both the API (through authenticate_*) and the policies use:
-- '*' is full access, '*:read' / '*:write' cover every section, '<section>:read|write' one section.
create or replace function agentry.scope_allows(granted text[], required text) returns boolean
  language sql immutable set search_path = ''
  as $$
    select required = any(granted)
        or '*' = any(granted)
        or (position(':' in required) > 0 and '*:' || split_part(required, ':', 2) = any(granted))
  $$;

create or replace function agentry.scopes_within(requested text[], held text[]) returns boolean
  language sql immutable set search_path = ''
  as $$ select coalesce(bool_and(agentry.scope_allows(held, r)), true) from unnest(requested) as r $$;

create or replace function agentry.claim_has_scope(required text) returns boolean
  language sql stable set search_path = ''
  as $$
    select agentry.scope_allows(
      coalesce(array(select jsonb_array_elements_text(auth.jwt() -> 'scopes')), '{}'),
      required)
  $$;

create or replace function agentry.claim_scopes() returns text[]
  language sql stable set search_path = ''
  as $$ select coalesce(array(select jsonb_array_elements_text(auth.jwt() -> 'scopes')), '{}') $$;

create or replace function agentry.touch_updated_at() returns trigger
  language plpgsql set search_path = ''
  as $$ begin new.updated_at := now(); return new; end $$;

-- Plans set the default rate limit; an organisation may override it.
create table if not exists agentry.plans (
  id text primary key,
  name text not null,
  rate_limit_per_minute integer not null check (rate_limit_per_minute > 0)
);
insert into agentry.plans (id, name, rate_limit_per_minute) values
  ('free', 'Free', 60),
  ('pro', 'Pro', 600),
  ('enterprise', 'Enterprise', 6000)
on conflict (id) do nothing;
alter table agentry.plans enable row level security;
-- Plans are public product facts, readable by every tenant.
drop policy if exists plans_read on agentry.plans;
create policy plans_read on agentry.plans for select to authenticated using (true);
grant select on agentry.plans to authenticated;

create table if not exists agentry.organisations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  plan text not null default 'free' references agentry.plans (id),
  rate_limit_per_minute integer check (rate_limit_per_minute > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists organisations_plan_idx on agentry.organisations (plan);
alter table agentry.organisations enable row level security;
drop trigger if exists organisations_touch on agentry.organisations;
create trigger organisations_touch before update on agentry.organisations
  for each row execute function agentry.touch_updated_at();
-- A tenant sees and edits only its own organisation, and only with the org scopes.
drop policy if exists organisations_read on agentry.organisations;
create policy organisations_read on agentry.organisations for select to authenticated
  using (
    id = (select agentry.claim_org_id())
    and ((select agentry.claim_has_scope('org:read')) or (select agentry.claim_has_scope('org:write')))
  );
drop policy if exists organisations_write on agentry.organisations;
create policy organisations_write on agentry.organisations for update to authenticated
  using (id = (select agentry.claim_org_id()) and (select agentry.claim_has_scope('org:write')))
  with check (id = (select agentry.claim_org_id()));
grant select, update (name) on agentry.organisations to authenticated;

create table if not exists agentry.members (
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (org_id, user_id)
);
create index if not exists members_user_idx on agentry.members (user_id);
alter table agentry.members enable row level security;
drop policy if exists members_read on agentry.members;
create policy members_read on agentry.members for select to authenticated
  using (org_id = (select agentry.claim_org_id()) and (select agentry.claim_has_scope('org:read')));
grant select on agentry.members to authenticated;

create table if not exists agentry.environments (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  created_at timestamptz not null default now(),
  unique (org_id, name)
);
alter table agentry.environments enable row level security;
drop policy if exists environments_read on agentry.environments;
create policy environments_read on agentry.environments for select to authenticated
  using (org_id = (select agentry.claim_org_id()) and (select agentry.claim_has_scope('org:read')));
grant select on agentry.environments to authenticated;

-- Just enough of an agent to bind keys to; the agents API extends this table.
create table if not exists agentry.agents (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Lets tables that carry both ids prove, by foreign key, that the agent belongs to the same organisation.
  unique (id, org_id)
);
create index if not exists agents_org_idx on agentry.agents (org_id);
alter table agentry.agents enable row level security;
drop trigger if exists agents_touch on agentry.agents;
create trigger agents_touch before update on agentry.agents
  for each row execute function agentry.touch_updated_at();
-- An agent key sees its own agent only; an org credential sees all of the org's agents.
drop policy if exists agents_read on agentry.agents;
create policy agents_read on agentry.agents for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('agents:read'))
  );
grant select on agentry.agents to authenticated;

-- Only the SHA-256 of a key is stored. Organisation tokens (pk_) have no agent; agent keys (ck_live_,
-- ck_test_) have one and a mode.
create table if not exists agentry.api_keys (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid,
  mode text check (mode in ('live', 'test')),
  name text not null check (length(name) between 1 and 200),
  prefix text not null,
  key_hash bytea not null unique check (length(key_hash) = 32),
  scopes text[] not null,
  status text not null default 'active' check (status in ('active', 'revoked')),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  call_count bigint not null default 0,
  expires_at timestamptz,
  revoked_at timestamptz,
  rotated_from uuid references agentry.api_keys (id) on delete set null,
  created_by_key uuid,
  created_by_user uuid,
  check ((agent_id is null) = (mode is null)),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists api_keys_org_idx on agentry.api_keys (org_id, created_at);
create index if not exists api_keys_agent_idx on agentry.api_keys (agent_id, org_id);
create index if not exists api_keys_rotated_from_idx on agentry.api_keys (rotated_from);
alter table agentry.api_keys enable row level security;
-- Reading needs keys:read, changing needs keys:write; an agent key reaches its agent's keys only, and
-- nobody can store a key with a scope their own credential does not hold.
drop policy if exists api_keys_read on agentry.api_keys;
-- keys:write may see what it writes (INSERT/UPDATE … RETURNING must pass this policy too).
create policy api_keys_read on agentry.api_keys for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('keys:read')) or (select agentry.claim_has_scope('keys:write')))
  );
drop policy if exists api_keys_insert on agentry.api_keys;
create policy api_keys_insert on agentry.api_keys for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('keys:write'))
    and agentry.scopes_within(scopes, (select agentry.claim_scopes()))
  );
drop policy if exists api_keys_update on agentry.api_keys;
create policy api_keys_update on agentry.api_keys for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('keys:write'))
  )
  with check (org_id = (select agentry.claim_org_id()));
drop policy if exists api_keys_delete on agentry.api_keys;
create policy api_keys_delete on agentry.api_keys for delete to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('keys:write'))
  );
grant select, insert, delete on agentry.api_keys to authenticated;
grant update (status, revoked_at, expires_at) on agentry.api_keys to authenticated;

-- One sliding-window bucket per organisation, shared by all its keys (see take_rate_limit). Every request
-- updates its organisation's row, so the table is unlogged: no WAL per request. A crash empties it, which
-- only gives each organisation a fresh minute; the rows come back on the next request.
create unlogged table if not exists agentry.rate_limits (
  org_id uuid primary key references agentry.organisations (id) on delete cascade,
  window_start timestamptz not null default date_trunc('minute', now()),
  current_count integer not null default 0,
  previous_count integer not null default 0
);
alter table agentry.rate_limits enable row level security;
-- Written only by authenticate_* (security definer); a tenant may read its own bucket.
drop policy if exists rate_limits_read on agentry.rate_limits;
create policy rate_limits_read on agentry.rate_limits for select to authenticated
  using (org_id = (select agentry.claim_org_id()));
grant select on agentry.rate_limits to authenticated;

-- Every write made through the API, whoever made it and how it ended.
create table if not exists agentry.audit_log (
  id bigint generated always as identity primary key,
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  key_id uuid,
  user_id uuid,
  agent_id uuid,
  method text not null,
  path text not null,
  status integer not null,
  request_id text not null,
  created_at timestamptz not null default now()
);
create index if not exists audit_log_org_idx on agentry.audit_log (org_id, created_at desc);
alter table agentry.audit_log enable row level security;
drop policy if exists audit_log_read on agentry.audit_log;
-- An agent key sees the writes made on its agent's behalf only.
create policy audit_log_read on agentry.audit_log for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('audit-logs:read'))
  );
grant select on agentry.audit_log to authenticated;

-- A new organisation starts with its two environments and an empty rate-limit bucket.
create or replace function agentry.provision_organisation() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into agentry.environments (org_id, name) values (new.id, 'production'), (new.id, 'development');
    insert into agentry.rate_limits (org_id) values (new.id);
    return new;
  end
  $$;
revoke execute on function agentry.provision_organisation() from public;
drop trigger if exists organisations_provision on agentry.organisations;
create trigger organisations_provision after insert on agentry.organisations
  for each row execute function agentry.provision_organisation();
