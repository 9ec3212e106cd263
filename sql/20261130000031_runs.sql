-- Agent runs: a message handed to an agent to work on in the background (POST /agents/{id}/trigger). A run
-- is queued with the configuration it will execute with, and the job `runs.execute` takes it through
-- queued → in_progress → completed | failed; a caller may cancel it, and one left queued past its
-- expires_at is expired instead of run. Each model call is a step with its usage, and the usage ledger's
-- rows carry the run. Every status change and step is also an event in agentry.run_events, numbered, which
-- GET /runs/{id}/events streams and resumes from (Last-Event-ID is an event's number): triggers write them in
-- the transaction that makes the change, so a watcher sees exactly what committed, in order.

-- An agent's configuration as a run executes it: the one place it is defined (deployments snapshot it too).
create or replace function agentry.agent_configuration(p_agent_id uuid) returns jsonb
  language sql stable security definer set search_path = ''
  as $$
    select jsonb_build_object('model', a.model, 'instructions', a.instructions, 'temperature', a.temperature,
      'max_output_tokens', a.max_output_tokens, 'name', a.name, 'description', a.description)
    from agentry.agents a where a.id = p_agent_id
  $$;
revoke execute on function agentry.agent_configuration(uuid) from public;

create table if not exists agentry.runs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid not null,
  key_id uuid,
  deployment_id uuid,
  environment text check (length(environment) between 1 and 200),
  status text not null default 'queued'
    check (status in ('queued', 'in_progress', 'completed', 'failed', 'cancelled', 'expired')),
  message text not null check (length(message) between 1 and 100000),
  input jsonb,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  configuration jsonb not null,
  output text,
  last_error jsonb,
  usage jsonb,
  cost_usd numeric,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  expires_at timestamptz,
  unique (id, org_id),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists runs_listing_idx on agentry.runs (org_id, created_at desc, id desc);
create index if not exists runs_agent_idx on agentry.runs (agent_id, created_at desc, id desc);

create table if not exists agentry.run_steps (
  id uuid primary key default gen_random_uuid(),
  run_id uuid not null,
  org_id uuid not null,
  agent_id uuid not null,
  seq integer not null check (seq >= 1),
  kind text not null default 'model_call' check (kind in ('model_call')),
  model text,
  status text not null default 'in_progress' check (status in ('in_progress', 'completed', 'failed')),
  usage jsonb,
  output text,
  error jsonb,
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (run_id, seq),
  foreign key (run_id, org_id) references agentry.runs (id, org_id) on delete cascade
);

create table if not exists agentry.run_events (
  -- The event's number: its SSE id, increasing in commit order closely enough for one run's events, which
  -- are written one transaction after another.
  id bigint generated always as identity primary key,
  run_id uuid not null,
  org_id uuid not null,
  agent_id uuid not null,
  type text not null,
  data jsonb not null,
  created_at timestamptz not null default now(),
  foreign key (run_id, org_id) references agentry.runs (id, org_id) on delete cascade
);
create index if not exists run_events_run_idx on agentry.run_events (run_id, id);

alter table agentry.usage_records add column if not exists run_id uuid references agentry.runs (id) on delete set null;
create index if not exists usage_records_run_idx on agentry.usage_records (run_id) where run_id is not null;

-- A run executes the configuration it was created with, from the agent itself; a trigger named later
-- (deployments) may replace it. Status is the product's to move: a run starts queued, a tenant may only
-- cancel it, and a finished run stays finished. The timestamps follow the status.
create or replace function agentry.prepare_run() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if tg_op = 'INSERT' then
      new.configuration := agentry.agent_configuration(new.agent_id);
      new.status := 'queued';
      return new;
    end if;
    if new.status is distinct from old.status then
      if old.status in ('completed', 'failed', 'cancelled', 'expired') then
        raise exception 'The run is % already', old.status using errcode = '55000';
      end if;
      if current_setting('role', true) = 'authenticated' and new.status <> 'cancelled' then
        raise exception 'A run can only be cancelled' using errcode = '42501';
      end if;
      if new.status = 'queued' or (old.status = 'in_progress' and new.status = 'expired') then
        raise exception 'A run cannot go from % to %', old.status, new.status using errcode = '55000';
      end if;
      if new.status = 'in_progress' then
        new.started_at := coalesce(new.started_at, now());
      else
        new.completed_at := coalesce(new.completed_at, now());
        if new.status = 'cancelled' then
          new.cancelled_at := coalesce(new.cancelled_at, new.completed_at);
        end if;
      end if;
    end if;
    return new;
  end
  $$;
revoke execute on function agentry.prepare_run() from public;
drop trigger if exists runs_00_prepare on agentry.runs;
create trigger runs_00_prepare before insert or update on agentry.runs
  for each row execute function agentry.prepare_run();

create or replace function agentry.run_json(r agentry.runs) returns jsonb
  language sql stable set search_path = ''
  as $$
    select jsonb_build_object('id', r.id, 'agent_id', r.agent_id, 'status', r.status, 'output', r.output,
      'last_error', r.last_error, 'usage', r.usage, 'created_at', r.created_at, 'started_at', r.started_at,
      'completed_at', r.completed_at, 'cancelled_at', r.cancelled_at)
  $$;

-- The run's stream of events, and the webhooks' run.completed / run.failed.
create or replace function agentry.record_run_status() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if tg_op = 'INSERT' or new.status is distinct from old.status then
      insert into agentry.run_events (run_id, org_id, agent_id, type, data)
      values (new.id, new.org_id, new.agent_id, 'run.' || new.status, agentry.run_json(new));
      if new.status in ('completed', 'failed')
         and new.org_id in (select agentry.orgs_listening('run.' || new.status)) then
        insert into agentry.events (org_id, agent_id, type, data)
        values (new.org_id, new.agent_id, 'run.' || new.status,
          jsonb_build_object('run_id', new.id, 'agent_id', new.agent_id, 'status', new.status));
      end if;
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.record_run_status() from public;
drop trigger if exists runs_events on agentry.runs;
create trigger runs_events after insert or update of status on agentry.runs
  for each row execute function agentry.record_run_status();

create or replace function agentry.record_run_step() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into agentry.run_events (run_id, org_id, agent_id, type, data)
    values (new.run_id, new.org_id, new.agent_id, 'run.step.' || new.status,
      jsonb_build_object('run_id', new.run_id, 'seq', new.seq, 'kind', new.kind, 'model', new.model,
        'status', new.status, 'usage', new.usage, 'output', new.output, 'error', new.error,
        'started_at', new.started_at, 'completed_at', new.completed_at));
    return null;
  end
  $$;
revoke execute on function agentry.record_run_step() from public;
drop trigger if exists run_steps_events on agentry.run_steps;
create trigger run_steps_events after insert or update of status on agentry.run_steps
  for each row execute function agentry.record_run_step();

alter table agentry.runs enable row level security;
alter table agentry.run_steps enable row level security;
alter table agentry.run_events enable row level security;

do $$
declare
  t record;
  p record;
begin
  for t in
    select * from (values
      ('runs', 'agent_id = (select agentry.claim_agent_id())'),
      ('run_steps', 'agent_id = (select agentry.claim_agent_id())'),
      ('run_events', 'agent_id = (select agentry.claim_agent_id())')
    ) as v(table_name, agent_rule)
  loop
    perform agentry.create_tenant_policy(t.table_name, t.agent_rule);
  end loop;
  for p in
    select * from (values
      -- Write scopes may see what they write (INSERT/UPDATE … RETURNING must pass the read policy too).
      ('runs_read', 'runs', 'select', array['runs:read', 'runs:write'], null),
      ('runs_insert', 'runs', 'insert', array['runs:write'], null),
      ('runs_update', 'runs', 'update', array['runs:write'], null),
      ('run_steps_read', 'run_steps', 'select', array['runs:read', 'runs:write'], null),
      ('run_events_read', 'run_events', 'select', array['runs:read', 'runs:write'], null),
      -- Triggering a run reads the agent it names, as chatting does.
      ('agents_read', 'agents', 'select', array['agents:read', 'agents:write', 'chat:write', 'runs:write'], null)
    ) as v(policy_name, table_name, command, scopes, own_rule)
  loop
    perform agentry.create_scope_policy(p.policy_name, p.table_name, p.command, p.scopes, p.own_rule);
  end loop;
end
$$;

grant select, insert (org_id, agent_id, key_id, environment, message, input, metadata, expires_at)
  on agentry.runs to authenticated;
grant update (status) on agentry.runs to authenticated;
grant select on agentry.run_steps to authenticated;
grant select on agentry.run_events to authenticated;
