-- Events and signed webhooks. Changes become events inside the transaction that makes them (triggers on
-- the source tables insert into agentry.events), so a committed change always has its event and a rolled
-- back one never does. Each event fans out, still in that transaction, into one delivery per subscribed
-- endpoint; dispatchers claim due deliveries with FOR UPDATE SKIP LOCKED, POST them signed, record every
-- attempt and retry with backoff until delivered or dead.

create table if not exists agentry.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  -- An agent key's endpoint hears its agent's events only.
  agent_id uuid,
  url text not null check (url ~ '^https?://' and length(url) <= 2048),
  description text check (length(description) <= 500),
  -- Event types, prefixes (`dataset.row.*`) or `*`.
  events text[] not null check (cardinality(events) between 1 and 100),
  -- Only events whose data carries these values: { "dataset_id": "…" }.
  filters jsonb not null default '{}' check (jsonb_typeof(filters) = 'object'),
  enabled boolean not null default true,
  disabled_reason text,
  disabled_at timestamptz,
  secret text not null,
  -- After a rotation the old secret keeps signing beside the new one until it expires.
  previous_secret text,
  previous_secret_expires_at timestamptz,
  -- Since when every delivery has failed (null after a success): five days of it disable the endpoint.
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists webhook_endpoints_org_idx on agentry.webhook_endpoints (org_id, created_at);
create index if not exists webhook_endpoints_agent_idx on agentry.webhook_endpoints (agent_id, org_id);
alter table agentry.webhook_endpoints enable row level security;
drop trigger if exists webhook_endpoints_touch on agentry.webhook_endpoints;
create trigger webhook_endpoints_touch before update on agentry.webhook_endpoints
  for each row execute function agentry.touch_updated_at();

-- The same shape as every agent-scoped resource: the organisation's, or an agent key's own agent's.
drop policy if exists webhook_endpoints_read on agentry.webhook_endpoints;
create policy webhook_endpoints_read on agentry.webhook_endpoints for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('webhooks:read')) or (select agentry.claim_has_scope('webhooks:write')))
  );
drop policy if exists webhook_endpoints_insert on agentry.webhook_endpoints;
create policy webhook_endpoints_insert on agentry.webhook_endpoints for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('webhooks:write'))
  );
drop policy if exists webhook_endpoints_update on agentry.webhook_endpoints;
create policy webhook_endpoints_update on agentry.webhook_endpoints for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('webhooks:write'))
  )
  with check (org_id = (select agentry.claim_org_id()));
drop policy if exists webhook_endpoints_delete on agentry.webhook_endpoints;
create policy webhook_endpoints_delete on agentry.webhook_endpoints for delete to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('webhooks:write'))
  );
grant select, insert (org_id, agent_id, url, description, events, filters, enabled, secret), delete on agentry.webhook_endpoints to authenticated;
grant update (url, description, events, filters, enabled, disabled_reason, disabled_at, secret, previous_secret,
  previous_secret_expires_at, failing_since) on agentry.webhook_endpoints to authenticated;

-- The outbox. `endpoint_id` addresses an event to one endpoint only (webhook.test).
create table if not exists agentry.events (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid,
  type text not null,
  data jsonb not null,
  endpoint_id uuid references agentry.webhook_endpoints (id) on delete cascade,
  created_at timestamptz not null default now()
);
create index if not exists events_org_idx on agentry.events (org_id, created_at);
create index if not exists events_endpoint_idx on agentry.events (endpoint_id);
alter table agentry.events enable row level security;
drop policy if exists events_read on agentry.events;
create policy events_read on agentry.events for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('webhooks:read')) or (select agentry.claim_has_scope('webhooks:write')))
  );
-- Tenants only add events addressed to one of the endpoints they can see (webhook.test); triggers add the
-- rest.
drop policy if exists events_insert on agentry.events;
create policy events_insert on agentry.events for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and endpoint_id in (select id from agentry.webhook_endpoints)
    and (select agentry.claim_has_scope('webhooks:write'))
  );
grant select, insert (org_id, agent_id, type, data, endpoint_id) on agentry.events to authenticated;

create table if not exists agentry.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid,
  endpoint_id uuid not null references agentry.webhook_endpoints (id) on delete cascade,
  event_id uuid not null references agentry.events (id) on delete cascade,
  -- pending: not yet tried; failed: tried, and will be again at next_attempt_at; delivered; dead: given up.
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'dead')),
  attempt_count integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A dispatcher's lease: while it runs, no other dispatcher claims the delivery; if the dispatcher dies,
  -- the delivery is claimed again once it has passed.
  locked_until timestamptz,
  last_error text,
  last_status_code integer,
  delivered_at timestamptz,
  delivery_latency_ms integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (endpoint_id, event_id)
);
-- What dispatchers claim: due and not final, oldest due first.
create index if not exists webhook_deliveries_due_idx on agentry.webhook_deliveries (next_attempt_at)
  where status in ('pending', 'failed');
create index if not exists webhook_deliveries_org_idx on agentry.webhook_deliveries (org_id, created_at desc, id);
create index if not exists webhook_deliveries_endpoint_idx on agentry.webhook_deliveries (endpoint_id, created_at desc);
create index if not exists webhook_deliveries_event_idx on agentry.webhook_deliveries (event_id);
alter table agentry.webhook_deliveries enable row level security;
drop trigger if exists webhook_deliveries_touch on agentry.webhook_deliveries;
create trigger webhook_deliveries_touch before update on agentry.webhook_deliveries
  for each row execute function agentry.touch_updated_at();
drop policy if exists webhook_deliveries_read on agentry.webhook_deliveries;
create policy webhook_deliveries_read on agentry.webhook_deliveries for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('webhooks:read')) or (select agentry.claim_has_scope('webhooks:write')))
  );
-- Retrying and recovering put deliveries back in the queue; nothing else of them is the tenant's to change.
drop policy if exists webhook_deliveries_update on agentry.webhook_deliveries;
create policy webhook_deliveries_update on agentry.webhook_deliveries for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('webhooks:write'))
  )
  with check (org_id = (select agentry.claim_org_id()));
grant select on agentry.webhook_deliveries to authenticated;
grant update (status, next_attempt_at) on agentry.webhook_deliveries to authenticated;

create table if not exists agentry.webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references agentry.webhook_deliveries (id) on delete cascade,
  endpoint_id uuid not null references agentry.webhook_endpoints (id) on delete cascade,
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid,
  attempt integer not null,
  started_at timestamptz not null,
  status_code integer,
  error text,
  latency_ms integer not null,
  -- The first 2 KB of what the receiver answered.
  response_body text
);
create index if not exists webhook_attempts_delivery_idx on agentry.webhook_attempts (delivery_id, attempt);
create index if not exists webhook_attempts_endpoint_idx on agentry.webhook_attempts (endpoint_id, started_at);
alter table agentry.webhook_attempts enable row level security;
drop policy if exists webhook_attempts_read on agentry.webhook_attempts;
create policy webhook_attempts_read on agentry.webhook_attempts for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('webhooks:read')) or (select agentry.claim_has_scope('webhooks:write')))
  );
grant select on agentry.webhook_attempts to authenticated;

-- Whether an endpoint's subscriptions take an event type: the type itself, a prefix ending in `.*`, or `*`.
create or replace function agentry.event_matches(patterns text[], type text) returns boolean
  language sql immutable set search_path = ''
  as $$
    select exists (
      select 1 from unnest(patterns) as p
      where p = type or p = '*' or (right(p, 2) = '.*' and starts_with(type, left(p, -1)))
    )
  $$;

-- Whether an event's data carries every value an endpoint filters on.
create or replace function agentry.event_passes(filters jsonb, data jsonb) returns boolean
  language sql immutable set search_path = ''
  as $$ select not exists (select 1 from jsonb_each_text(filters) as f where (data ->> f.key) is distinct from f.value) $$;

-- Events fan out into deliveries, once per statement, and dispatchers listening are woken. An event
-- addressed to one endpoint goes there only; an endpoint being disabled is told to the organisation's other
-- enabled endpoints whatever they subscribe to; every other event goes to the enabled endpoints that take
-- its type (an agent's endpoint, its agent's events only) and pass its filters.
create or replace function agentry.fan_out_events() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into agentry.webhook_deliveries (org_id, agent_id, endpoint_id, event_id)
    select e.org_id, ep.agent_id, ep.id, e.id
    from new_events e
    join agentry.webhook_endpoints ep on ep.org_id = e.org_id
    where case
      when e.endpoint_id is not null then ep.id = e.endpoint_id
      else ep.enabled
        and (ep.agent_id is null or ep.agent_id = e.agent_id)
        and (e.type = 'webhook.endpoint.disabled' or agentry.event_matches(ep.events, e.type))
        and agentry.event_passes(ep.filters, e.data)
    end;
    if found then
      perform pg_notify('agentry_webhook_deliveries', '');
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.fan_out_events() from public;
drop trigger if exists events_fan_out on agentry.events;
create trigger events_fan_out after insert on agentry.events
  referencing new table as new_events for each statement execute function agentry.fan_out_events();

-- The organisations (among `orgs`) with an enabled endpoint that takes `type`: producers write events only
-- for them, so changes nobody listens to cost one index probe per statement, not an event per row.
create or replace function agentry.orgs_listening(type text) returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select distinct org_id from agentry.webhook_endpoints
    where enabled and agentry.event_matches(events, type)
  $$;
revoke execute on function agentry.orgs_listening(text) from public;

-- A dataset row as events carry it: the row as the API shows it, and its dataset.
create or replace function agentry.dataset_row_json(r agentry.dataset_rows) returns jsonb
  language sql stable set search_path = ''
  as $$ select jsonb_build_object('id', r.id) || r.data || jsonb_build_object('created_at', r.created_at, 'updated_at', r.updated_at) $$;

create or replace function agentry.emit_dataset_row_events() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    event_type text := 'dataset.row.' || case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'updated' else 'deleted' end;
  begin
    if tg_op = 'INSERT' then
      insert into agentry.events (org_id, agent_id, type, data)
      select r.org_id, r.agent_id, event_type, jsonb_build_object('dataset_id', r.dataset_id, 'row', agentry.dataset_row_json(r))
      from new_rows r where r.org_id in (select agentry.orgs_listening(event_type)) order by r.seq;
    elsif tg_op = 'UPDATE' then
      insert into agentry.events (org_id, agent_id, type, data)
      select r.org_id, r.agent_id, event_type,
             jsonb_build_object('dataset_id', r.dataset_id, 'row', agentry.dataset_row_json(r), 'previous', agentry.dataset_row_json(o))
      from new_rows r join old_rows o on o.dataset_id = r.dataset_id and o.id = r.id
      where r.org_id in (select agentry.orgs_listening(event_type)) order by r.seq;
    else
      insert into agentry.events (org_id, agent_id, type, data)
      select r.org_id, r.agent_id, event_type, jsonb_build_object('dataset_id', r.dataset_id, 'row', agentry.dataset_row_json(r))
      from old_rows r where r.org_id in (select agentry.orgs_listening(event_type)) order by r.seq;
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.emit_dataset_row_events() from public;
drop trigger if exists dataset_rows_events_inserted on agentry.dataset_rows;
create trigger dataset_rows_events_inserted after insert on agentry.dataset_rows
  referencing new table as new_rows for each statement execute function agentry.emit_dataset_row_events();
drop trigger if exists dataset_rows_events_updated on agentry.dataset_rows;
create trigger dataset_rows_events_updated after update on agentry.dataset_rows
  referencing old table as old_rows new table as new_rows for each statement execute function agentry.emit_dataset_row_events();
drop trigger if exists dataset_rows_events_deleted on agentry.dataset_rows;
create trigger dataset_rows_events_deleted after delete on agentry.dataset_rows
  referencing old table as old_rows for each statement execute function agentry.emit_dataset_row_events();

-- An API key as events carry it: never its hash.
create or replace function agentry.api_key_json(k agentry.api_keys) returns jsonb
  language sql stable set search_path = ''
  as $$
    select jsonb_build_object(
      'id', k.id, 'name', k.name, 'prefix', k.prefix, 'agent_id', k.agent_id, 'mode', k.mode, 'scopes', to_jsonb(k.scopes),
      'status', k.status, 'created_at', k.created_at, 'expires_at', k.expires_at, 'revoked_at', k.revoked_at,
      'rotated_from', k.rotated_from)
  $$;

create or replace function agentry.emit_api_key_events() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into agentry.events (org_id, agent_id, type, data)
    select k.org_id, k.agent_id, t.type, jsonb_build_object('key', agentry.api_key_json(k))
    from new_keys k
    cross join lateral (select case when k.rotated_from is null then 'api_key.created' else 'api_key.rotated' end as type) t
    where k.org_id in (select agentry.orgs_listening(t.type));
    return null;
  end
  $$;
revoke execute on function agentry.emit_api_key_events() from public;
drop trigger if exists api_keys_events_inserted on agentry.api_keys;
create trigger api_keys_events_inserted after insert on agentry.api_keys
  referencing new table as new_keys for each statement execute function agentry.emit_api_key_events();

-- Every authenticated request updates its key's usage counters, so the revocation trigger is row-level,
-- limited to updates that name `status`, and filtered by WHEN: the counters' update never runs it.
create or replace function agentry.emit_api_key_revoked() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if new.org_id in (select agentry.orgs_listening('api_key.revoked')) then
      insert into agentry.events (org_id, agent_id, type, data)
      values (new.org_id, new.agent_id, 'api_key.revoked', jsonb_build_object('key', agentry.api_key_json(new)));
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.emit_api_key_revoked() from public;
drop trigger if exists api_keys_events_updated on agentry.api_keys;
drop trigger if exists api_keys_events_revoked on agentry.api_keys;
create trigger api_keys_events_revoked after update of status on agentry.api_keys
  for each row when (new.status = 'revoked' and old.status <> 'revoked')
  execute function agentry.emit_api_key_revoked();
