-- Issue 16's last parts. Spending and daily usage totals are kept in shards: every usage insert of one
-- organisation added to the same few rows, so concurrent model calls (a burst of runs, many chats at once)
-- queued on those rows' locks until each inserting transaction committed. Each connection now adds to the
-- shard its backend picks, and readers sum an organisation's shards (at most `shards` rows a key, through
-- the same index).

-- The shard a connection adds to: fixed per backend, so one backend never waits on itself and concurrent
-- backends mostly miss each other.
create or replace function agentry.total_shard() returns smallint
  language sql volatile set search_path = ''
  as $$ select (pg_backend_pid() % 16)::smallint $$;

alter table agentry.spend_totals add column if not exists shard smallint not null default 0;
do $$
begin
  if exists (select 1 from pg_constraint where conname = 'spend_totals_pkey'
             and conrelid = 'agentry.spend_totals'::regclass and array_length(conkey, 1) = 4) then
    alter table agentry.spend_totals drop constraint spend_totals_pkey;
    alter table agentry.spend_totals add constraint spend_totals_pkey primary key (org_id, agent_id, period, period_start, shard);
  end if;
end $$;

alter table agentry.usage_daily add column if not exists shard smallint not null default 0;
do $$
begin
  if exists (select 1 from pg_constraint where conname = 'usage_daily_key'
             and conrelid = 'agentry.usage_daily'::regclass and array_length(conkey, 1) = 5) then
    alter table agentry.usage_daily drop constraint usage_daily_key;
    alter table agentry.usage_daily add constraint usage_daily_key
      unique nulls not distinct (org_id, day, agent_id, model, key_id, shard);
  end if;
end $$;

create or replace function agentry.count_spend() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    s smallint := agentry.total_shard();
  begin
    insert into agentry.usage_daily as d
      (org_id, day, agent_id, model, key_id, shard, calls, prompt_tokens, completion_tokens, cost_usd, unpriced_calls)
    select org_id, (created_at at time zone 'UTC')::date, agent_id, model, key_id, s, count(*), sum(prompt_tokens),
           sum(completion_tokens), coalesce(sum(cost_usd), 0), count(*) filter (where cost_usd is null)
    from inserted
    group by 1, 2, 3, 4, 5
    order by 1, 2, 3, 4, 5
    on conflict (org_id, day, agent_id, model, key_id, shard) do update set
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
    shard_totals as (
      insert into agentry.spend_totals as t (org_id, agent_id, period, period_start, shard, spent_usd)
      select org_id, agent_id, period, period_start, s, cost from spent
      -- Rows in key order, so two concurrent inserts lock the totals they share in the same order.
      order by org_id, agent_id, period, period_start
      on conflict (org_id, agent_id, period, period_start, shard) do update set spent_usd = t.spent_usd + excluded.spent_usd
      returning t.org_id, t.agent_id, t.period, t.period_start, t.spent_usd
    ),
    -- This shard's new total and the other shards' committed ones: the period's spending as far as this
    -- transaction can see (a threshold another one crosses at the same moment is raised by the next call).
    totals as (
      select t.org_id, t.agent_id, t.period, t.period_start,
             t.spent_usd + coalesce((
               select sum(o.spent_usd) from agentry.spend_totals o
               where o.org_id = t.org_id and o.agent_id = t.agent_id and o.period = t.period
                 and o.period_start = t.period_start and o.shard <> s), 0) as spent_usd
      from shard_totals t
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

-- The period's spending is the sum of its shards.
create or replace function agentry.budget_refusal(p_org_id uuid, p_agent_id uuid, p_now timestamptz default null)
  returns table (budget_id uuid, agent_id uuid, period text, limit_usd numeric, spent_usd numeric)
  language sql stable security definer set search_path = ''
  as $$
    select b.id, b.agent_id, b.period, b.limit_usd, t.spent_usd
    from agentry.budgets b
    cross join lateral (
      select sum(s.spent_usd) as spent_usd from agentry.spend_totals s
      where s.org_id = b.org_id
        and s.agent_id = coalesce(b.agent_id, '00000000-0000-0000-0000-000000000000'::uuid)
        and s.period = b.period
        and s.period_start = agentry.budget_period_start(b.period, coalesce(p_now, now()))
    ) t
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

create or replace function agentry.budget_spend(p_now timestamptz default null)
  returns table (budget_id uuid, period_start date, spent_usd numeric)
  language sql stable security definer set search_path = ''
  as $$
    select b.id, agentry.budget_period_start(b.period, coalesce(p_now, now())), coalesce(t.spent_usd, 0)
    from agentry.budgets b
    cross join lateral (
      select sum(s.spent_usd) as spent_usd from agentry.spend_totals s
      where s.org_id = b.org_id
        and s.agent_id = coalesce(b.agent_id, '00000000-0000-0000-0000-000000000000'::uuid)
        and s.period = b.period
        and s.period_start = agentry.budget_period_start(b.period, coalesce(p_now, now()))
    ) t
    where b.org_id = (select agentry.claim_org_id())
      and ((select agentry.claim_agent_id()) is null or b.agent_id = (select agentry.claim_agent_id()))
  $$;
revoke execute on function agentry.budget_spend(timestamptz) from public;
grant execute on function agentry.budget_spend(timestamptz) to authenticated;

-- The job runners prune the audit log past its retention every hour (agentry.prune_audit_log): by its age
-- across every organisation, which no other index serves.
create index if not exists audit_log_created_idx on agentry.audit_log (created_at);

-- A past day's usage gets no more calls (the ledger is stamped as it is written): its shards are folded into
-- shard 0 by the job runners' hourly sweep, so GET /costs over months reads one row a key and day, as before
-- the totals were sharded. In one statement: a reader sees the shards or their sum, never both or neither.
create or replace function agentry.fold_usage_shards(p_before date default null) returns bigint
  language plpgsql security definer set search_path = ''
  as $$
  declare
    folded bigint;
  begin
    with moved as (
      delete from agentry.usage_daily
      where day < coalesce(p_before, (now() at time zone 'UTC')::date) and shard <> 0
      returning org_id, day, agent_id, model, key_id, calls, prompt_tokens, completion_tokens, cost_usd, unpriced_calls
    )
    insert into agentry.usage_daily as d
      (org_id, day, agent_id, model, key_id, shard, calls, prompt_tokens, completion_tokens, cost_usd, unpriced_calls)
    select org_id, day, agent_id, model, key_id, 0, sum(calls), sum(prompt_tokens), sum(completion_tokens), sum(cost_usd),
           sum(unpriced_calls)
    from moved
    group by 1, 2, 3, 4, 5
    order by 1, 2, 3, 4, 5
    on conflict (org_id, day, agent_id, model, key_id, shard) do update set
      calls = d.calls + excluded.calls,
      prompt_tokens = d.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = d.completion_tokens + excluded.completion_tokens,
      cost_usd = d.cost_usd + excluded.cost_usd,
      unpriced_calls = d.unpriced_calls + excluded.unpriced_calls;
    get diagnostics folded = row_count;
    return folded;
  end $$;
revoke execute on function agentry.fold_usage_shards(date) from public;
grant execute on function agentry.fold_usage_shards(date) to service_role;
