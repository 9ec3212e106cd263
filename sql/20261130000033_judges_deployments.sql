-- Deployments and judges. A deployment is an immutable snapshot of an agent's configuration
-- (agentry.agent_configuration) in one environment, numbered per agent and environment; the newest deployed or
-- rolled back to is the active one, and every run of the agent in that environment executes with its snapshot
-- (a BEFORE INSERT trigger on agentry.runs). Judges score an agent's completed runs: a trigger enqueues the
-- runs.judge job, which writes one judgement per judge. A judge's outcome never changes the run.

create table if not exists agentry.deployments (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid not null,
  environment text not null check (environment ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  version integer not null check (version > 0),
  configuration jsonb not null check (jsonb_typeof(configuration) = 'object'),
  active boolean not null default true,
  -- On a rollback: the deployment that was active and is left, and the one whose snapshot is restored (plain
  -- ids, no foreign keys: a deployment is never updated, not even to forget a deleted one).
  rolled_back_from uuid,
  restored_from uuid,
  created_at timestamptz not null default now(),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade,
  unique (agent_id, environment, version),
  unique (id, org_id)
);
create unique index if not exists deployments_active_idx on agentry.deployments (agent_id, environment) where active;
create index if not exists deployments_org_idx on agentry.deployments (org_id, created_at desc, id desc);

-- What a new deployment gets from the database, not from its caller: its number (after the agent's last in
-- that environment, under a lock so two deployments at once cannot share one), its snapshot unless it
-- restores one, and the active mark, taken from the deployment that held it. An environment not yet known to
-- the organisation is added, as production and development are for every new one.
create or replace function agentry.deployments_prepare() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  -- Before anything of the agent's is touched: it must be the deploying organisation's, and an agent key's own
  -- (the foreign key and the tenant policy would say so only after this function has run).
  if not exists (select 1 from agentry.agents a where a.id = new.agent_id and a.org_id = new.org_id) then
    raise exception 'No such agent in the organisation' using errcode = '23503';
  end if;
  if agentry.claim_agent_id() is not null and agentry.claim_agent_id() <> new.agent_id then
    raise exception 'An agent key deploys its own agent only' using errcode = '42501';
  end if;
  perform pg_advisory_xact_lock(hashtext('agentry.deployments'), hashtext(new.agent_id::text || '/' || new.environment));
  select coalesce(max(d.version), 0) + 1 into new.version
    from agentry.deployments d where d.agent_id = new.agent_id and d.environment = new.environment;
  if new.configuration is null then
    new.configuration := agentry.agent_configuration(new.agent_id);
  end if;
  new.active := true;
  new.created_at := now();
  update agentry.deployments set active = false
   where agent_id = new.agent_id and environment = new.environment and active;
  insert into agentry.environments (org_id, name) values (new.org_id, new.environment) on conflict (org_id, name) do nothing;
  return new;
end
$$;
drop trigger if exists deployments_prepare on agentry.deployments;
create trigger deployments_prepare before insert on agentry.deployments
  for each row execute function agentry.deployments_prepare();

-- Immutable: only `active` moves, and only by the functions here.
create or replace function agentry.deployments_immutable() returns trigger
  language plpgsql set search_path = ''
  as $$
begin
  if (to_jsonb(new) - 'active') is distinct from (to_jsonb(old) - 'active') then
    raise exception 'A deployment is immutable: deploy again or roll back instead' using errcode = '42501';
  end if;
  return new;
end
$$;
drop trigger if exists deployments_immutable on agentry.deployments;
create trigger deployments_immutable before update on agentry.deployments
  for each row execute function agentry.deployments_immutable();

alter table agentry.deployments enable row level security;
select agentry.create_tenant_policy('deployments', 'agent_id = (select agentry.claim_agent_id())');
select agentry.create_scope_policy('deployments_read', 'deployments', 'select', array['deployments:read', 'deployments:write']);
select agentry.create_scope_policy('deployments_insert', 'deployments', 'insert', array['deployments:write']);
revoke all on agentry.deployments from authenticated;
grant select, insert (org_id, agent_id, environment, configuration, rolled_back_from, restored_from)
  on agentry.deployments to authenticated;
grant select, insert, update, delete on agentry.deployments to service_role;

create table if not exists agentry.judges (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid not null,
  name text not null check (length(name) between 1 and 200),
  kind text not null check (kind in ('model', 'rule')),
  rubric text check (length(rubric) <= 20000),
  -- { "regex": "…" } or { "json_schema": { … } }
  rule jsonb check (rule is null or (jsonb_typeof(rule) = 'object' and (rule ? 'regex' or rule ? 'json_schema'))),
  threshold numeric not null check (threshold between 0 and 1),
  model text check (length(model) between 1 and 200),
  created_at timestamptz not null default now(),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade,
  unique (id, org_id),
  check ((kind = 'model' and rubric is not null) or (kind = 'rule' and rule is not null))
);
create index if not exists judges_agent_idx on agentry.judges (agent_id);
create index if not exists judges_org_idx on agentry.judges (org_id, created_at desc, id desc);

alter table agentry.judges enable row level security;
select agentry.create_tenant_policy('judges', 'agent_id = (select agentry.claim_agent_id())');
select agentry.create_scope_policy('judges_read', 'judges', 'select', array['judges:read', 'judges:write']);
select agentry.create_scope_policy('judges_insert', 'judges', 'insert', array['judges:write']);
select agentry.create_scope_policy('judges_delete', 'judges', 'delete', array['judges:write']);
revoke all on agentry.judges from authenticated;
grant select, delete, insert (org_id, agent_id, name, kind, rubric, rule, threshold, model) on agentry.judges to authenticated;
grant select, insert, update, delete on agentry.judges to service_role;

-- One judgement per run and judge, written by the runs.judge job. A judge deleted later leaves its
-- judgements, with its name. `error` says why a judge could not score (score and passed are then null).
create table if not exists agentry.run_judgements (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  run_id uuid not null references agentry.runs (id) on delete cascade,
  agent_id uuid not null,
  judge_id uuid references agentry.judges (id) on delete set null,
  judge_name text not null,
  kind text not null check (kind in ('model', 'rule')),
  score numeric check (score between 0 and 1),
  threshold numeric not null,
  passed boolean,
  reasoning text,
  error jsonb,
  usage jsonb,
  created_at timestamptz not null default now(),
  unique (run_id, judge_id)
);
create index if not exists run_judgements_run_idx on agentry.run_judgements (run_id, created_at, id);
create index if not exists run_judgements_org_idx on agentry.run_judgements (org_id);

alter table agentry.run_judgements enable row level security;
select agentry.create_tenant_policy('run_judgements', 'agent_id = (select agentry.claim_agent_id())');
select agentry.create_scope_policy('run_judgements_read', 'run_judgements', 'select',
  array['judges:read', 'judges:write', 'runs:read', 'runs:write']);
revoke all on agentry.run_judgements from authenticated;
grant select on agentry.run_judgements to authenticated;
grant select, insert, update, delete on agentry.run_judgements to service_role;

-- Runs execute with their deployment's snapshot (after runs_00_prepare, which sets the agent's own): the active deployment of the run's agent in its environment
-- (production when the run names none). An agent never deployed there keeps the configuration the run was
-- created with.
alter table agentry.runs drop constraint if exists runs_deployment_fk;
alter table agentry.runs add constraint runs_deployment_fk
  foreign key (deployment_id) references agentry.deployments (id) on delete set null;
create index if not exists runs_deployment_idx on agentry.runs (deployment_id) where deployment_id is not null;

create or replace function agentry.runs_use_deployment() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
declare
  d record;
begin
  select id, configuration into d from agentry.deployments
   where org_id = new.org_id and agent_id = new.agent_id and environment = coalesce(new.environment, 'production') and active;
  if found then
    new.deployment_id := d.id;
    new.configuration := d.configuration;
  else
    new.deployment_id := null;
  end if;
  return new;
end
$$;
drop trigger if exists runs_10_deployment on agentry.runs;
create trigger runs_10_deployment before insert on agentry.runs
  for each row execute function agentry.runs_use_deployment();

-- A run that completes is judged by its agent's judges, in the background.
create or replace function agentry.runs_enqueue_judging() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  if exists (select 1 from agentry.judges j where j.agent_id = new.agent_id and j.org_id = new.org_id) then
    perform agentry.enqueue_job_for(new.org_id, 'runs.judge', jsonb_build_object('run_id', new.id), new.id::text);
  end if;
  return null;
end
$$;
drop trigger if exists runs_enqueue_judging on agentry.runs;
create trigger runs_enqueue_judging after update of status on agentry.runs
  for each row when (new.status = 'completed' and old.status is distinct from 'completed')
  execute function agentry.runs_enqueue_judging();
