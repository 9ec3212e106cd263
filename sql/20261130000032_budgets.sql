-- Costs and budgets. Budgets: a spending limit per organisation or per agent, per UTC day or month, checked before every model
-- call (functions/_core/budgets.ts). What was spent is kept as running totals beside the usage ledger, by a
-- trigger on agentry.usage_records, so that every caller of a model (chat, embeddings, extraction, runs) is
-- counted without code of its own and the check before a call is one indexed lookup, not a scan of the ledger.

create table if not exists agentry.budgets (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  -- Null: the organisation's budget, over all its agents and its calls made for no agent.
  agent_id uuid,
  period text not null check (period in ('day', 'month')),
  limit_usd numeric not null check (limit_usd > 0 and limit_usd < 1e12),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint budgets_scope_key unique nulls not distinct (org_id, agent_id, period),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists budgets_agent_idx on agentry.budgets (agent_id) where agent_id is not null;

alter table agentry.budgets enable row level security;
select agentry.create_tenant_policy('budgets', 'agent_id = (select agentry.claim_agent_id())');
select agentry.create_scope_policy('budgets_read', 'budgets', 'select', array['budgets:read', 'budgets:write']);
-- An agent key sets no budget, not even its own agent's: a limit is the organisation's decision.
select agentry.create_scope_policy('budgets_insert', 'budgets', 'insert', array['budgets:write'],
  '(select agentry.claim_agent_id()) is null');
select agentry.create_scope_policy('budgets_update', 'budgets', 'update', array['budgets:write'],
  '(select agentry.claim_agent_id()) is null');
select agentry.create_scope_policy('budgets_delete', 'budgets', 'delete', array['budgets:write'],
  '(select agentry.claim_agent_id()) is null');
grant select, delete on agentry.budgets to authenticated;
grant insert (org_id, agent_id, period, limit_usd) on agentry.budgets to authenticated;
grant update (limit_usd, updated_at) on agentry.budgets to authenticated;

-- What was spent per organisation (agent_id is the nil uuid) and per agent, per period, by UTC period start.
-- Kept for every organisation whether or not it has a budget, so a budget set mid-period counts what the
-- period has already spent. Calls of unknown cost (cost_usd null) add nothing here; costs reports them.
create table if not exists agentry.spend_totals (
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid not null,
  period text not null check (period in ('day', 'month')),
  period_start date not null,
  spent_usd numeric not null default 0,
  primary key (org_id, agent_id, period, period_start)
);
alter table agentry.spend_totals enable row level security;
-- No tenant policy grants anything: budgets.ts reads it through agentry.budget_refusal, the routes through
-- agentry.budget_spend, both security definer.

-- The thresholds (50, 80, 100 %) each budget has crossed in each of its periods: each is raised once.
create table if not exists agentry.budget_thresholds (
  budget_id uuid not null references agentry.budgets (id) on delete cascade,
  period_start date not null,
  percent integer not null check (percent in (50, 80, 100)),
  raised_at timestamptz not null default now(),
  primary key (budget_id, period_start, percent)
);
alter table agentry.budget_thresholds enable row level security;

-- The usage ledger summed per UTC day, agent, model and key: what GET /costs reads, so that a dashboard's
-- month or year is a few hundred rows, not a scan of every call. Kept by the same trigger; the ledger is
-- append-only, so sums only grow.
create table if not exists agentry.usage_daily (
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  day date not null,
  agent_id uuid,
  model text not null,
  key_id uuid,
  calls bigint not null,
  prompt_tokens bigint not null,
  completion_tokens bigint not null,
  -- The calls of known cost only; those of unknown cost (cost_usd null in the ledger) are counted apart.
  cost_usd numeric not null,
  unpriced_calls bigint not null,
  constraint usage_daily_key unique nulls not distinct (org_id, day, agent_id, model, key_id)
);
alter table agentry.usage_daily enable row level security;
-- Read as the ledger is read (usage_records_read): an agent key sees its own agent's rows only.
select agentry.create_tenant_policy('usage_daily', 'agent_id = (select agentry.claim_agent_id())');
select agentry.create_scope_policy('usage_daily_read', 'usage_daily', 'select', array['runs:read', 'chat:write']);
grant select on agentry.usage_daily to authenticated;

create or replace function agentry.budget_period_start(p_period text, p_at timestamptz) returns date
  language sql immutable set search_path = ''
  as $$
    select case p_period
      when 'day' then (p_at at time zone 'UTC')::date
      else date_trunc('month', p_at at time zone 'UTC')::date
    end
  $$;

create or replace function agentry.count_spend() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into agentry.usage_daily as d
      (org_id, day, agent_id, model, key_id, calls, prompt_tokens, completion_tokens, cost_usd, unpriced_calls)
    select org_id, (created_at at time zone 'UTC')::date, agent_id, model, key_id, count(*), sum(prompt_tokens),
           sum(completion_tokens), coalesce(sum(cost_usd), 0), count(*) filter (where cost_usd is null)
    from inserted
    group by 1, 2, 3, 4, 5
    order by 1, 2, 3, 4, 5
    on conflict (org_id, day, agent_id, model, key_id) do update set
      calls = d.calls + excluded.calls,
      prompt_tokens = d.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = d.completion_tokens + excluded.completion_tokens,
      cost_usd = d.cost_usd + excluded.cost_usd,
      unpriced_calls = d.unpriced_calls + excluded.unpriced_calls;

    with spent as (
      select s.org_id, s.agent_id, p.period, agentry.budget_period_start(p.period, s.created_at) as period_start,
             sum(s.cost_usd) as cost
      from (
        select org_id, coalesce(agent_id, '00000000-0000-0000-0000-000000000000'::uuid) as agent_id, created_at, cost_usd
        from inserted where cost_usd is not null and cost_usd > 0
        union all
        select org_id, '00000000-0000-0000-0000-000000000000'::uuid, created_at, cost_usd
        from inserted where cost_usd is not null and cost_usd > 0 and agent_id is not null
      ) s
      cross join (values ('day'), ('month')) as p(period)
      group by 1, 2, 3, 4
    ),
    totals as (
      insert into agentry.spend_totals as t (org_id, agent_id, period, period_start, spent_usd)
      select org_id, agent_id, period, period_start, cost from spent
      -- Rows in key order, so two concurrent inserts lock the totals they share in the same order.
      order by org_id, agent_id, period, period_start
      on conflict (org_id, agent_id, period, period_start) do update set spent_usd = t.spent_usd + excluded.spent_usd
      returning t.org_id, t.agent_id, t.period, t.period_start, t.spent_usd
    ),
    crossed as (
      insert into agentry.budget_thresholds (budget_id, period_start, percent)
      select b.id, t.period_start, pct.percent
      from totals t
      join agentry.budgets b
        on b.org_id = t.org_id and b.period = t.period
       and coalesce(b.agent_id, '00000000-0000-0000-0000-000000000000'::uuid) = t.agent_id
      cross join (values (50), (80), (100)) as pct(percent)
      where t.spent_usd * 100 >= b.limit_usd * pct.percent
      on conflict do nothing
      returning budget_id, period_start, percent
    )
    insert into agentry.events (org_id, agent_id, type, data)
    select b.org_id, b.agent_id, 'budget.threshold',
           jsonb_build_object('budget_id', b.id, 'agent_id', b.agent_id, 'period', b.period,
             'period_start', c.period_start, 'percent', c.percent, 'spent_usd', t.spent_usd, 'limit_usd', b.limit_usd)
    from crossed c
    join agentry.budgets b on b.id = c.budget_id
    join totals t on t.org_id = b.org_id and t.period = b.period and t.period_start = c.period_start
     and t.agent_id = coalesce(b.agent_id, '00000000-0000-0000-0000-000000000000'::uuid)
    where b.org_id in (select agentry.orgs_listening('budget.threshold'))
    order by c.percent;
    return null;
  end
  $$;
revoke execute on function agentry.count_spend() from public;
drop trigger if exists usage_records_spend on agentry.usage_records;
create trigger usage_records_spend after insert on agentry.usage_records
  referencing new table as inserted for each statement execute function agentry.count_spend();

-- The first of the caller's budgets (the organisation's, then the agent's) whose current period is spent, if
-- any: what budgets.ts asks before a model call. A tenant may ask only about its own organisation.
create or replace function agentry.budget_refusal(p_org_id uuid, p_agent_id uuid, p_now timestamptz default null)
  returns table (budget_id uuid, agent_id uuid, period text, limit_usd numeric, spent_usd numeric)
  language sql stable security definer set search_path = ''
  as $$
    select b.id, b.agent_id, b.period, b.limit_usd, t.spent_usd
    from agentry.budgets b
    join agentry.spend_totals t
      on t.org_id = b.org_id
     and t.agent_id = coalesce(b.agent_id, '00000000-0000-0000-0000-000000000000'::uuid)
     and t.period = b.period
     and t.period_start = agentry.budget_period_start(b.period, coalesce(p_now, now()))
    where b.org_id = p_org_id
      and (b.agent_id is null or b.agent_id = p_agent_id)
      and t.spent_usd >= b.limit_usd
      -- A tenant (role authenticated, claims or none) asks about its own organisation only; the service asks about any.
      and (current_setting('role') <> 'authenticated' or agentry.claim_org_id() is not distinct from p_org_id)
    order by b.agent_id nulls first, b.period
    limit 1
  $$;
revoke execute on function agentry.budget_refusal(uuid, uuid, timestamptz) from public;
grant execute on function agentry.budget_refusal(uuid, uuid, timestamptz) to authenticated, service_role;

-- What each budget the caller can see has spent in its current period (GET /budgets).
create or replace function agentry.budget_spend(p_now timestamptz default null)
  returns table (budget_id uuid, period_start date, spent_usd numeric)
  language sql stable security definer set search_path = ''
  as $$
    select b.id, agentry.budget_period_start(b.period, coalesce(p_now, now())), coalesce(t.spent_usd, 0)
    from agentry.budgets b
    left join agentry.spend_totals t
      on t.org_id = b.org_id
     and t.agent_id = coalesce(b.agent_id, '00000000-0000-0000-0000-000000000000'::uuid)
     and t.period = b.period
     and t.period_start = agentry.budget_period_start(b.period, coalesce(p_now, now()))
    where b.org_id = (select agentry.claim_org_id())
      and ((select agentry.claim_agent_id()) is null or b.agent_id = (select agentry.claim_agent_id()))
  $$;
revoke execute on function agentry.budget_spend(timestamptz) from public;
grant execute on function agentry.budget_spend(timestamptz) to authenticated;

-- The calls recorded before this migration, counted once: only into tables still empty.
do $$
begin
  if not exists (select 1 from agentry.usage_daily) then
    insert into agentry.usage_daily
      (org_id, day, agent_id, model, key_id, calls, prompt_tokens, completion_tokens, cost_usd, unpriced_calls)
    select org_id, (created_at at time zone 'UTC')::date, agent_id, model, key_id, count(*), sum(prompt_tokens),
           sum(completion_tokens), coalesce(sum(cost_usd), 0), count(*) filter (where cost_usd is null)
    from agentry.usage_records group by 1, 2, 3, 4, 5;
  end if;
  if not exists (select 1 from agentry.spend_totals) then
    insert into agentry.spend_totals (org_id, agent_id, period, period_start, spent_usd)
    select s.org_id, s.agent_id, p.period, agentry.budget_period_start(p.period, s.created_at), sum(s.cost_usd)
    from (
      select org_id, coalesce(agent_id, '00000000-0000-0000-0000-000000000000'::uuid) as agent_id, created_at, cost_usd
      from agentry.usage_records where cost_usd > 0
      union all
      select org_id, '00000000-0000-0000-0000-000000000000'::uuid, created_at, cost_usd
      from agentry.usage_records where cost_usd > 0 and agent_id is not null
    ) s
    cross join (values ('day'), ('month')) as p(period)
    group by 1, 2, 3, 4;
  end if;
end
$$;
