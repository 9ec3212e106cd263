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

-- Enqueueing without a dedupe key (a run's job, every trigger) is a plain insert: ON CONFLICT made each one
-- a speculative insertion, checked and confirmed, for an index the row is never in.
create or replace function agentry.enqueue_job_for(
  p_org uuid, p_kind text, p_payload jsonb, p_dedupe_key text default null, p_run_at timestamptz default null,
  p_max_attempts integer default null)
  returns uuid
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    job_id uuid;
  begin
    if p_org is null then
      raise exception 'A job needs an organisation' using errcode = '42501';
    end if;
    if pg_column_size(p_payload) > 65536 then
      raise exception 'A job''s payload is at most 64 kB; keep the work''s data in its own table' using errcode = '22023';
    end if;
    if p_dedupe_key is null then
      insert into agentry.jobs (org_id, kind, payload, run_at, max_attempts)
      values (p_org, p_kind, coalesce(p_payload, '{}'), coalesce(p_run_at, now()), coalesce(p_max_attempts, 5))
      returning id into job_id;
    else
      insert into agentry.jobs as j (org_id, kind, payload, dedupe_key, run_at, max_attempts)
      values (p_org, p_kind, coalesce(p_payload, '{}'), p_dedupe_key, coalesce(p_run_at, now()), coalesce(p_max_attempts, 5))
      on conflict (org_id, kind, dedupe_key) where status = 'queued' and dedupe_key is not null
      do update set payload = excluded.payload, run_at = least(j.run_at, excluded.run_at)
      returning j.id into job_id;
    end if;
    perform pg_notify('agentry_jobs', p_kind);
    return job_id;
  end
  $$;
revoke execute on function agentry.enqueue_job_for(uuid, text, jsonb, text, timestamptz, integer) from public;
grant execute on function agentry.enqueue_job_for(uuid, text, jsonb, text, timestamptz, integer) to service_role;

-- Triggering a run in one statement of the tenant's transaction: the agent the trigger names (by id, or by a
-- name only one of the caller's agents has), not paused, gets its run and the job that executes it. Raised
-- as no_data_found otherwise, so that the transaction (and the request's audit entry sent with it, in the
-- same round trip) rolls back; the API then asks why in a transaction of its own. The caller's own rights
-- (security invoker): RLS decides which agents it can name and which runs it may write.
create or replace function agentry.trigger_run(
  p_org uuid, p_agent text, p_key_id uuid, p_environment text, p_message text, p_input jsonb, p_metadata jsonb,
  p_expires_at timestamptz)
  returns agentry.runs
  language plpgsql volatile set search_path = ''
  as $$
  declare
    v_agent uuid;
    r agentry.runs;
  begin
    if p_agent ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
      select a.id into v_agent from agentry.agents a where a.id = p_agent::uuid and a.status <> 'paused';
    else
      select a.id into v_agent from agentry.agents a
      where a.name = p_agent and a.status <> 'paused' and (select count(*) from agentry.agents n where n.name = p_agent) = 1;
    end if;
    if v_agent is null then
      raise exception 'no agent this caller can trigger is named %', p_agent using errcode = 'P0002';
    end if;
    insert into agentry.runs (org_id, agent_id, key_id, environment, message, input, metadata, expires_at)
    values (p_org, v_agent, p_key_id, p_environment, p_message, p_input, p_metadata, p_expires_at)
    returning * into r;
    perform agentry.enqueue_job('runs.execute', jsonb_build_object('run_id', r.id));
    return r;
  end
  $$;
revoke execute on function agentry.trigger_run(uuid, text, uuid, text, text, jsonb, jsonb, timestamptz) from public;
grant execute on function agentry.trigger_run(uuid, text, uuid, text, text, jsonb, jsonb, timestamptz) to authenticated;
