-- Runs throughput (issue 16), the database's CPU per run. Every usage record (a run's model call, a chat)
-- added to the spending totals and then, in the same statement, summed every shard of its totals and joined
-- them to the organisation's budgets, and wrote its threshold events with an insert that fired the events'
-- statement triggers (webhook fan-out, stream notices) even when it wrote nothing. Most organisations have no
-- budget: their totals are still kept (a budget created later reads them), and the rest is skipped. A run's
-- status events asked which organisations anywhere listen for run.completed; they now ask about their own.

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

    insert into agentry.spend_totals as t (org_id, agent_id, period, period_start, shard, spent_usd)
    select sp.org_id, sp.agent_id, p.period, agentry.budget_period_start(p.period, sp.created_at), s, sum(sp.cost_usd)
    from (
      select org_id, coalesce(agent_id, '00000000-0000-0000-0000-000000000000'::uuid) as agent_id, created_at, cost_usd
      from inserted where cost_usd > 0
      union all
      select org_id, '00000000-0000-0000-0000-000000000000'::uuid, created_at, cost_usd
      from inserted where cost_usd > 0 and agent_id is not null
    ) sp
    cross join (values ('day'), ('month')) as p(period)
    group by 1, 2, 3, 4
    -- Rows in key order, so two concurrent inserts lock the totals they share in the same order.
    order by 1, 2, 3, 4
    on conflict (org_id, agent_id, period, period_start, shard) do update set spent_usd = t.spent_usd + excluded.spent_usd;

    -- Thresholds only where a budget could have crossed one.
    if not exists (
      select from agentry.budgets b where b.org_id in (select i.org_id from inserted i where i.cost_usd > 0)
    ) then
      return null;
    end if;

    with spent as (
      select distinct i.org_id, coalesce(i.agent_id, '00000000-0000-0000-0000-000000000000'::uuid) as agent_id, p.period,
             agentry.budget_period_start(p.period, i.created_at) as period_start
      from inserted i
      cross join (values ('day'), ('month')) as p(period)
      where i.cost_usd > 0
      union
      select distinct i.org_id, '00000000-0000-0000-0000-000000000000'::uuid, p.period,
             agentry.budget_period_start(p.period, i.created_at)
      from inserted i
      cross join (values ('day'), ('month')) as p(period)
      where i.cost_usd > 0 and i.agent_id is not null
    ),
    -- Every shard's total as this transaction sees it: its own new one and the others' committed ones (a
    -- threshold another transaction crosses at the same moment is raised by the next call).
    totals as (
      select k.org_id, k.agent_id, k.period, k.period_start, sum(o.spent_usd) as spent_usd
      from spent k
      join agentry.spend_totals o
        on o.org_id = k.org_id and o.agent_id = k.agent_id and o.period = k.period and o.period_start = k.period_start
      group by 1, 2, 3, 4
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
    where agentry.org_listens(b.org_id, 'budget.threshold')
    order by c.percent;
    return null;
  end
  $$;
revoke execute on function agentry.count_spend() from public;

create or replace function agentry.record_run_status() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if tg_op = 'INSERT' or new.status is distinct from old.status then
      insert into agentry.run_events (run_id, org_id, agent_id, type, data)
      values (new.id, new.org_id, new.agent_id, 'run.' || new.status, agentry.run_json(new));
      if new.status in ('completed', 'failed') and agentry.org_listens(new.org_id, 'run.' || new.status) then
        insert into agentry.events (org_id, agent_id, type, data)
        values (new.org_id, new.agent_id, 'run.' || new.status,
          jsonb_build_object('run_id', new.id, 'agent_id', new.agent_id, 'status', new.status));
      end if;
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.record_run_status() from public;
