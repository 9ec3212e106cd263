-- Runs throughput (issue 16), a trigger's database CPU. A run's `run.queued` event was a row of its own,
-- written by the insert that queued the run, though everything in it is on the run: its stream now makes it
-- from the run, under the number the row would have had (taken from the events' sequence when the run is
-- inserted, so it still comes before every later event of the run and Last-Event-ID resumes after it as
-- before). Runs queued earlier keep their stored row and have no number of their own. A run's insert also
-- fired two row triggers (its preparation, then its deployment's configuration), and the request's audit entry
-- parsed the claims four times.

alter table agentry.runs add column if not exists queued_event_id bigint;

-- The run as its run.queued event shows it: what run_json said of it on insert.
create or replace function agentry.run_queued_json(r agentry.runs) returns jsonb
  language sql stable set search_path = ''
  as $$
    select jsonb_build_object('id', r.id, 'agent_id', r.agent_id, 'status', 'queued', 'output', null,
      'last_error', null, 'usage', null, 'created_at', r.created_at, 'started_at', null,
      'completed_at', null, 'cancelled_at', null)
  $$;

-- A run's configuration on insert is its environment's active deployment's, or else its agent's: one trigger
-- (runs_10_deployment was a second) that reads the agent only when no deployment replaces what it read.
create or replace function agentry.prepare_run() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    d record;
  begin
    if tg_op = 'INSERT' then
      select id, configuration into d from agentry.deployments
       where org_id = new.org_id and agent_id = new.agent_id and environment = coalesce(new.environment, 'production') and active;
      if found then
        new.deployment_id := d.id;
        new.configuration := d.configuration;
      else
        new.deployment_id := null;
        new.configuration := agentry.agent_configuration(new.agent_id);
      end if;
      new.status := 'queued';
      new.queued_event_id := nextval('agentry.run_events_id_seq'::regclass);
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
    -- The number is the run's queued event's for good.
    new.queued_event_id := old.queued_event_id;
    return new;
  end
  $$;
revoke execute on function agentry.prepare_run() from public;
drop trigger if exists runs_10_deployment on agentry.runs;

-- Status changes only: a run's insert writes no event row (its run.queued is made from the run).
create or replace function agentry.record_run_status() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into agentry.run_events (run_id, org_id, agent_id, type, data)
    values (new.id, new.org_id, new.agent_id, 'run.' || new.status, agentry.run_json(new));
    if new.status in ('completed', 'failed') and agentry.org_listens(new.org_id, 'run.' || new.status) then
      insert into agentry.events (org_id, agent_id, type, data)
      values (new.org_id, new.agent_id, 'run.' || new.status,
        jsonb_build_object('run_id', new.id, 'agent_id', new.agent_id, 'status', new.status));
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.record_run_status() from public;
drop trigger if exists runs_events on agentry.runs;
create trigger runs_events after update of status on agentry.runs
  for each row when (new.status is distinct from old.status)
  execute function agentry.record_run_status();

-- The request's audit entry reads the claims once: each of org, key, user and agent parsed them again.
create or replace function agentry.record_write(method text, path text, status integer, request_id text)
  returns bigint
  language sql volatile security definer set search_path = ''
  as $$
    insert into agentry.audit_log (org_id, key_id, user_id, agent_id, method, path, status, request_id)
    select nullif(c.j ->> 'org_id', '')::uuid, nullif(c.j ->> 'key_id', '')::uuid, nullif(c.j ->> 'sub', '')::uuid,
           nullif(c.j ->> 'agent_id', '')::uuid, method, path, status, request_id
    from (select auth.jwt() as j) c
    returning id
  $$;
revoke execute on function agentry.record_write(text, text, integer, text) from public;
grant execute on function agentry.record_write(text, text, integer, text) to authenticated;
