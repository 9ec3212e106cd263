-- Runs throughput (issue 16): a run's stream made from its rows. Each status change of a run and each step
-- opened or closed inserted a row into run_events (four a run), with its foreign-key check and two index
-- entries, a fifth of the database's time a run. What each of those rows held is on the run or the step
-- itself: the run and its steps keep the number each event was given when it happened (from the events'
-- sequence, as run.queued has since migration 47), and GET /runs/{id}/events builds the events from them,
-- so their order and Last-Event-ID resumption are unchanged. Runs and steps from before keep their rows.
--
-- What the rows are read as: a run's start is the run with status in_progress and nothing after started_at,
-- its end the run as it is (a finished run does not change), a step's opening the step with status
-- in_progress and no outcome, its close the step as it is. One difference: an opening read after its step
-- closed names the model the provider answered with, which may be more exact than the one asked for.

alter table agentry.runs add column if not exists started_event_id bigint;
alter table agentry.runs add column if not exists ended_event_id bigint;
alter table agentry.run_steps add column if not exists started_event_id bigint;
alter table agentry.run_steps add column if not exists ended_event_id bigint;

-- As prepare_run was (migration 47), and each status change takes its event's number; numbers never change.
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
      new.started_event_id := null;
      new.ended_event_id := null;
      return new;
    end if;
    new.queued_event_id := old.queued_event_id;
    new.started_event_id := old.started_event_id;
    new.ended_event_id := old.ended_event_id;
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
        new.started_event_id := nextval('agentry.run_events_id_seq'::regclass);
      else
        new.completed_at := coalesce(new.completed_at, now());
        if new.status = 'cancelled' then
          new.cancelled_at := coalesce(new.cancelled_at, new.completed_at);
        end if;
        new.ended_event_id := nextval('agentry.run_events_id_seq'::regclass);
      end if;
    end if;
    return new;
  end
  $$;
revoke execute on function agentry.prepare_run() from public;

-- The run as its run.in_progress event showed it.
create or replace function agentry.run_started_json(r agentry.runs) returns jsonb
  language sql stable set search_path = ''
  as $$
    select jsonb_build_object('id', r.id, 'agent_id', r.agent_id, 'status', 'in_progress', 'output', null,
      'last_error', null, 'usage', null, 'created_at', r.created_at, 'started_at', r.started_at,
      'completed_at', null, 'cancelled_at', null)
  $$;

-- A step as its events show it, and as its run.step.in_progress event showed it.
create or replace function agentry.run_step_json(s agentry.run_steps) returns jsonb
  language sql stable set search_path = ''
  as $$
    select jsonb_build_object('run_id', s.run_id, 'seq', s.seq, 'kind', s.kind, 'model', s.model,
      'status', s.status, 'usage', s.usage, 'output', s.output, 'error', s.error,
      'started_at', s.started_at, 'completed_at', s.completed_at)
  $$;
create or replace function agentry.run_step_started_json(s agentry.run_steps) returns jsonb
  language sql stable set search_path = ''
  as $$
    select jsonb_build_object('run_id', s.run_id, 'seq', s.seq, 'kind', s.kind, 'model', s.model,
      'status', 'in_progress', 'usage', null, 'output', null, 'error', null,
      'started_at', s.started_at, 'completed_at', null)
  $$;

-- Only the webhooks' run.completed / run.failed are left to write when a run ends.
create or replace function agentry.record_run_status() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if agentry.org_listens(new.org_id, 'run.' || new.status) then
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
  for each row when (new.status is distinct from old.status and new.status in ('completed', 'failed'))
  execute function agentry.record_run_status();

-- A step takes its events' numbers: opening (or, inserted already closed, closing) and closing.
create or replace function agentry.number_run_step_events() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if tg_op = 'INSERT' then
      new.started_event_id := null;
      new.ended_event_id := null;
      if new.status = 'in_progress' then
        new.started_event_id := nextval('agentry.run_events_id_seq'::regclass);
      else
        new.ended_event_id := nextval('agentry.run_events_id_seq'::regclass);
      end if;
      return new;
    end if;
    new.started_event_id := old.started_event_id;
    new.ended_event_id := old.ended_event_id;
    if new.status is distinct from old.status then
      new.ended_event_id := nextval('agentry.run_events_id_seq'::regclass);
    end if;
    return new;
  end
  $$;
revoke execute on function agentry.number_run_step_events() from public;
drop trigger if exists run_steps_events on agentry.run_steps;
drop trigger if exists run_steps_00_events on agentry.run_steps;
create trigger run_steps_00_events before insert or update on agentry.run_steps
  for each row execute function agentry.number_run_step_events();
drop function if exists agentry.record_run_step();
