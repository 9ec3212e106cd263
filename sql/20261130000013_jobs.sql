-- One queue for background work that is not a request's: indexing a knowledge item now, and later outbound
-- mail, runs and deletions (webhook deliveries keep their own queue for now). A job is enqueued in the
-- transaction that makes its work (an item and the job that indexes it commit or roll back together), and
-- runners claim due jobs with FOR UPDATE SKIP LOCKED under a lease. Every change a runner makes to a job is
-- fenced by (id, attempt): a runner whose lease ran out and whose job was claimed again can no longer record
-- anything. Fair across organisations: an organisation has at most its plan's max_running_jobs running at
-- once, and each claim serves the least busy organisations first, so one organisation's backlog never holds
-- back another's first job. Functions that read the time take p_now (null: Postgres's clock), as in
-- 20261130000010_clock.sql, so tests can step it.

alter table agentry.plans
  add column if not exists max_running_jobs integer not null default 2 check (max_running_jobs > 0);
update agentry.plans set max_running_jobs = 2 where id = 'free';
update agentry.plans set max_running_jobs = 4 where id = 'pro';
update agentry.plans set max_running_jobs = 8 where id = 'enterprise';
update agentry.plans set max_running_jobs = 4 where id = 'development';

create table if not exists agentry.jobs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' and length(kind) <= 100),
  payload jsonb not null default '{}' check (jsonb_typeof(payload) = 'object'),
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  -- Attempts begun so far; the attempt a runner holds is its fencing token.
  attempt integer not null default 0 check (attempt >= 0),
  max_attempts integer not null default 5 check (max_attempts between 1 and 1000),
  run_at timestamptz not null default now(),
  lease_until timestamptz,
  leased_by text,
  progress jsonb,
  last_error text,
  dedupe_key text check (length(dedupe_key) <= 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);

-- One queued job per (organisation, kind, key): enqueueing the key again replaces the queued job's payload.
-- A running job is not covered, so new work enqueued while it runs is queued beside it and runs after.
create unique index if not exists jobs_dedupe_idx on agentry.jobs (org_id, kind, dedupe_key)
  where status = 'queued' and dedupe_key is not null;
-- Claiming jumps from one organisation with queued jobs to the next (a loose index scan) and reads only the
-- few due jobs each may take; no claim reads through one organisation's backlog to reach another's.
create index if not exists jobs_queued_idx on agentry.jobs (org_id, run_at) where status = 'queued';
-- Running jobs: counted per organisation for its cap, and found by their lease when it runs out.
create index if not exists jobs_running_idx on agentry.jobs (org_id, kind, dedupe_key) where status = 'running';
create index if not exists jobs_leases_idx on agentry.jobs (lease_until) where status = 'running';
create index if not exists jobs_finished_idx on agentry.jobs (finished_at) where finished_at is not null;

drop trigger if exists jobs_touch on agentry.jobs;
create trigger jobs_touch before update on agentry.jobs
  for each row execute function agentry.touch_updated_at();

-- Tenants read a job's progress through the resource it works on (an item's status and counts), never the
-- queue: RLS is on and no policy lets a tenant see a row. Tenants enqueue only through agentry.enqueue_job.
alter table agentry.jobs enable row level security;
revoke all on agentry.jobs from authenticated;
grant select, insert, update, delete on agentry.jobs to service_role;

-- Enqueues a job for an organisation (the service's side: scripts, runners, the API's own work). With a
-- dedupe key, a queued job with the same key is updated instead (its payload replaced, due at the earlier
-- of the two times). Runners listening on agentry_jobs are woken when the transaction commits.
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
    insert into agentry.jobs as j (org_id, kind, payload, dedupe_key, run_at, max_attempts)
    values (p_org, p_kind, coalesce(p_payload, '{}'), p_dedupe_key, coalesce(p_run_at, now()), coalesce(p_max_attempts, 5))
    on conflict (org_id, kind, dedupe_key) where status = 'queued' and dedupe_key is not null
    do update set payload = excluded.payload, run_at = least(j.run_at, excluded.run_at)
    returning j.id into job_id;
    perform pg_notify('agentry_jobs', p_kind);
    return job_id;
  end
  $$;

-- Enqueues a job for the caller's organisation, inside the tenant transaction that makes its work, so the
-- two commit (or roll back) together. Handlers treat the payload as the tenant's: they check that what it
-- names belongs to the job's organisation.
create or replace function agentry.enqueue_job(
  p_kind text, p_payload jsonb, p_dedupe_key text default null, p_run_at timestamptz default null)
  returns uuid
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    org uuid := agentry.claim_org_id();
  begin
    if org is null then
      raise exception 'Jobs are enqueued inside a tenant transaction (no organisation in the claims)' using errcode = '42501';
    end if;
    return agentry.enqueue_job_for(org, p_kind, p_payload, p_dedupe_key, p_run_at);
  end
  $$;

-- Claims up to p_limit due jobs of the given kinds for runner p_worker, under a lease of p_lease_seconds,
-- counting the attempt. First, jobs whose lease ran out go back to the queue (or, out of attempts, fail);
-- those that fail are returned with dead = true, so the runner can tell their handlers. Claims are taken
-- one at a time (an advisory lock held for the few milliseconds one takes), so the per-organisation cap on
-- running jobs holds across any number of runners; SKIP LOCKED passes over a job a tenant transaction is
-- enqueueing again (its dedupe update holds the row until that transaction ends).
create or replace function agentry.claim_jobs(
  p_kinds text[], p_limit integer, p_lease_seconds integer, p_worker text, p_now timestamptz default null)
  returns table (id uuid, org_id uuid, kind text, payload jsonb, attempt integer, max_attempts integer, dead boolean, last_error text)
  language plpgsql volatile security definer set search_path = ''
  as $$
  #variable_conflict use_column
  declare
    t timestamptz := coalesce(p_now, clock_timestamp());
  begin
    perform pg_advisory_xact_lock(hashtext('agentry.jobs.claim'));
    begin
      return query
      with expired as (
        select j.id from agentry.jobs j
        where j.status = 'running' and j.lease_until < t and j.kind = any(p_kinds)
        order by j.lease_until limit 1000
        for update skip locked
      ),
      released as (
        update agentry.jobs j
        set status = case
              when j.attempt >= j.max_attempts then 'failed'
              -- Newer work with the same key is queued already: this job's payload is out of date.
              when j.dedupe_key is not null and exists (
                select 1 from agentry.jobs q
                where q.org_id = j.org_id and q.kind = j.kind and q.dedupe_key = j.dedupe_key and q.status = 'queued') then 'cancelled'
              else 'queued' end,
            run_at = t, lease_until = null, leased_by = null,
            last_error = format('Attempt %s did not finish: its runner stopped answering (the lease ran out)', j.attempt)
              || case when j.attempt >= j.max_attempts then '; no attempts are left' else '' end,
            finished_at = case when j.attempt >= j.max_attempts then t end
        from expired e
        where j.id = e.id
        returning j.id, j.org_id, j.kind, j.payload, j.attempt, j.max_attempts, j.status, j.last_error
      )
      select r.id, r.org_id, r.kind, r.payload, r.attempt, r.max_attempts, true, r.last_error from released r where r.status = 'failed';
    exception when unique_violation then
      -- A job was enqueued again with the same key while its lease was being released: the next claim releases it.
      null;
    end;

    return query
    with recursive orgs(org_id) as (
      (select j.org_id from agentry.jobs j where j.status = 'queued' order by j.org_id limit 1)
      union all
      select (select j.org_id from agentry.jobs j where j.status = 'queued' and j.org_id > o.org_id order by j.org_id limit 1)
      from orgs o where o.org_id is not null
    ),
    room as (
      select o.org_id, p.max_running_jobs, busy.n as busy
      from orgs o
      join agentry.organisations g on g.id = o.org_id
      join agentry.plans p on p.id = g.plan
      cross join lateral (select count(*)::integer as n from agentry.jobs r where r.org_id = o.org_id and r.status = 'running') busy
    ),
    candidates as (
      select c.id, c.run_at, r.busy + row_number() over (partition by r.org_id order by c.run_at, c.id) as load
      from room r
      cross join lateral (
        select j.id, j.run_at from agentry.jobs j
        where j.org_id = r.org_id and j.status = 'queued' and j.run_at <= t and j.kind = any(p_kinds)
          -- Work with one key runs one job at a time: the newer waits for the one running to end.
          and (j.dedupe_key is null or not exists (
            select 1 from agentry.jobs b
            where b.org_id = j.org_id and b.kind = j.kind and b.dedupe_key = j.dedupe_key and b.status = 'running'))
        order by j.run_at
        limit least(greatest(r.max_running_jobs - r.busy, 0), p_limit)
      ) c
    ),
    picked as (select c.id from candidates c order by c.load, c.run_at, c.id limit p_limit),
    locked as (
      select j.id from agentry.jobs j
      where j.id = any(array(select id from picked)) and j.status = 'queued' and j.run_at <= t
      for update skip locked
    )
    update agentry.jobs j
    set status = 'running', attempt = j.attempt + 1, lease_until = t + make_interval(secs => p_lease_seconds),
        leased_by = p_worker
    from locked l
    where j.id = l.id
    returning j.id, j.org_id, j.kind, j.payload, j.attempt, j.max_attempts, false, j.last_error;
  end
  $$;

-- Records a running job's progress (when p_done is given) and renews its lease. False when the attempt is
-- no longer the job's running one: the runner has lost it and stops.
create or replace function agentry.job_progress(
  p_id uuid, p_attempt integer, p_done integer, p_total integer, p_lease_seconds integer, p_now timestamptz default null)
  returns boolean
  language plpgsql volatile security definer set search_path = ''
  as $$
  begin
    update agentry.jobs j
    set progress = case when p_done is null then j.progress else jsonb_build_object('done', p_done, 'total', p_total) end,
        lease_until = coalesce(p_now, clock_timestamp()) + make_interval(secs => p_lease_seconds)
    where j.id = p_id and j.attempt = p_attempt and j.status = 'running';
    return found;
  end
  $$;

-- The attempt succeeded. False (and nothing changes) when it is no longer the job's running attempt.
create or replace function agentry.complete_job(p_id uuid, p_attempt integer, p_now timestamptz default null)
  returns boolean
  language plpgsql volatile security definer set search_path = ''
  as $$
  begin
    update agentry.jobs j
    set status = 'succeeded', finished_at = coalesce(p_now, clock_timestamp()), lease_until = null, last_error = null
    where j.id = p_id and j.attempt = p_attempt and j.status = 'running';
    return found;
  end
  $$;

-- The attempt failed: the job is queued again at p_retry_at, or fails for good when p_retry_at is null or
-- no attempts are left. Returns the job's new status ('queued', 'failed', or 'cancelled' when newer work
-- with its dedupe key is queued already), or null when the attempt is no longer the job's running one.
create or replace function agentry.fail_job(
  p_id uuid, p_attempt integer, p_error text, p_retry_at timestamptz, p_now timestamptz default null)
  returns text
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    t timestamptz := coalesce(p_now, clock_timestamp());
    outcome text;
  begin
    update agentry.jobs j
    set status = case when p_retry_at is null or j.attempt >= j.max_attempts then 'failed' else 'queued' end,
        run_at = coalesce(p_retry_at, j.run_at), lease_until = null, leased_by = null, last_error = left(p_error, 2000),
        finished_at = case when p_retry_at is null or j.attempt >= j.max_attempts then t end
    where j.id = p_id and j.attempt = p_attempt and j.status = 'running'
    returning j.status into outcome;
    return outcome;
  exception when unique_violation then
    update agentry.jobs j
    set status = 'cancelled', lease_until = null, leased_by = null, last_error = left(p_error, 2000), finished_at = t
    where j.id = p_id and j.attempt = p_attempt and j.status = 'running'
    returning j.status into outcome;
    return outcome;
  end
  $$;

-- A runner that stops (a deploy, an invocation out of time) gives its job back unfinished: queued again at
-- once, and the attempt it began is not counted against the job (max_attempts grows by one, so attempt
-- numbers, the fencing tokens, never repeat). Returns the new status, or null when the attempt was not running.
create or replace function agentry.release_job(p_id uuid, p_attempt integer, p_now timestamptz default null)
  returns text
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    outcome text;
  begin
    update agentry.jobs j
    set status = 'queued', run_at = coalesce(p_now, clock_timestamp()), lease_until = null, leased_by = null,
        max_attempts = j.max_attempts + 1
    where j.id = p_id and j.attempt = p_attempt and j.status = 'running'
    returning j.status into outcome;
    return outcome;
  exception when unique_violation then
    update agentry.jobs j
    set status = 'cancelled', lease_until = null, leased_by = null, finished_at = coalesce(p_now, clock_timestamp())
    where j.id = p_id and j.attempt = p_attempt and j.status = 'running'
    returning j.status into outcome;
    return outcome;
  end
  $$;

-- Forgets jobs that ended more than p_days ago. Returns how many went.
create or replace function agentry.prune_jobs(p_days integer, p_now timestamptz default null)
  returns integer
  language sql volatile security definer set search_path = ''
  as $$
    with gone as (
      delete from agentry.jobs j
      where j.finished_at < coalesce(p_now, clock_timestamp()) - make_interval(days => p_days)
      returning 1
    )
    select count(*)::integer from gone
  $$;

revoke execute on function agentry.enqueue_job_for(uuid, text, jsonb, text, timestamptz, integer) from public;
revoke execute on function agentry.enqueue_job(text, jsonb, text, timestamptz) from public;
revoke execute on function agentry.claim_jobs(text[], integer, integer, text, timestamptz) from public;
revoke execute on function agentry.job_progress(uuid, integer, integer, integer, integer, timestamptz) from public;
revoke execute on function agentry.complete_job(uuid, integer, timestamptz) from public;
revoke execute on function agentry.fail_job(uuid, integer, text, timestamptz, timestamptz) from public;
revoke execute on function agentry.release_job(uuid, integer, timestamptz) from public;
revoke execute on function agentry.prune_jobs(integer, timestamptz) from public;
grant execute on function agentry.enqueue_job(text, jsonb, text, timestamptz) to authenticated;
grant execute on function agentry.enqueue_job_for(uuid, text, jsonb, text, timestamptz, integer) to service_role;
grant execute on function agentry.claim_jobs(text[], integer, integer, text, timestamptz) to service_role;
grant execute on function agentry.job_progress(uuid, integer, integer, integer, integer, timestamptz) to service_role;
grant execute on function agentry.complete_job(uuid, integer, timestamptz) to service_role;
grant execute on function agentry.fail_job(uuid, integer, text, timestamptz, timestamptz) to service_role;
grant execute on function agentry.release_job(uuid, integer, timestamptz) to service_role;
grant execute on function agentry.prune_jobs(integer, timestamptz) to service_role;
