-- Guards on the shared webhook queue, so that one organisation's deliveries can neither flood it nor hold
-- another's back: indexes for claiming fairly (endpoint by endpoint, not oldest first across everyone),
-- the endpoint cap a plan sets, and the cap on deliveries queued per endpoint.

-- Dispatchers claim endpoint by endpoint: a loose index scan jumps from one endpoint with queued work to the
-- next, and for each reads only the few deliveries it may take, oldest due first. No claim reads through
-- one endpoint's backlog to reach another's. The fan-out counts an endpoint's queue on the same index.
create index if not exists webhook_deliveries_queue_idx on agentry.webhook_deliveries (endpoint_id, next_attempt_at)
  where status in ('pending', 'failed');
-- Deliveries in flight (leased) per endpoint, for the cap on concurrent requests to one endpoint: a lease
-- is cleared when its outcome is recorded, so this index holds only what is in flight or was abandoned.
create index if not exists webhook_deliveries_leased_idx on agentry.webhook_deliveries (endpoint_id, locked_until)
  where locked_until is not null;
-- Claiming oldest-first across all organisations is what let one backlog starve everyone else.
drop index if exists agentry.webhook_deliveries_due_idx;

-- The caller's organisation's plan, its endpoint cap and how many endpoints the organisation has. Called
-- in the transaction that creates an endpoint: the lock makes concurrent creations count one after the
-- other, so the cap holds under a race too.
create or replace function agentry.webhook_endpoint_allowance()
  returns table (plan_name text, max_endpoints integer, endpoints integer)
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    org uuid := agentry.claim_org_id();
  begin
    perform pg_advisory_xact_lock(hashtext('agentry.webhook_endpoints'), hashtext(org::text));
    return query
      select p.name, p.max_webhook_endpoints,
        (select count(*)::integer from agentry.webhook_endpoints ep where ep.org_id = org)
      from agentry.organisations o join agentry.plans p on p.id = o.plan
      where o.id = org;
  end
  $$;
revoke execute on function agentry.webhook_endpoint_allowance() from public;
grant execute on function agentry.webhook_endpoint_allowance() to authenticated;

-- Events fan out into deliveries, once per statement, and dispatchers listening are woken. An event
-- addressed to one endpoint goes there only; an endpoint being disabled is told to the organisation's other
-- enabled endpoints whatever they subscribe to; every other event goes to the enabled endpoints that take
-- its type (an agent's endpoint, its agent's events only) and pass its filters.
--
-- An endpoint holds at most its plan's max_queued_deliveries_per_endpoint deliveries waiting (pending or
-- failed). Past that, a new delivery is still made, but already dead, with last_error saying why: it shows
-- in the delivery log, and retrying it or recovering the endpoint queues it again once the receiver has
-- caught up. Nothing is dropped silently, and one endpoint's backlog cannot grow without bound. Counting
-- stops at the cap, so its cost is bounded and falls on the organisation whose backlog it is.
create or replace function agentry.fan_out_events() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    with matched as (
      select e.org_id, ep.agent_id, ep.id as endpoint_id, e.id as event_id,
        row_number() over (partition by ep.id order by e.created_at) as nth
      from new_events e
      join agentry.webhook_endpoints ep on ep.org_id = e.org_id
      where case
        when e.endpoint_id is not null then ep.id = e.endpoint_id
        else ep.enabled
          and (ep.agent_id is null or ep.agent_id = e.agent_id)
          and (e.type = 'webhook.endpoint.disabled' or agentry.event_matches(ep.events, e.type))
          and agentry.event_passes(ep.filters, e.data)
      end
    ),
    room as (
      select m.endpoint_id, p.name as plan_name, p.max_queued_deliveries_per_endpoint as cap,
        p.max_queued_deliveries_per_endpoint - (
          select count(*) from (
            select 1 from agentry.webhook_deliveries d
            where d.endpoint_id = m.endpoint_id and d.status in ('pending', 'failed')
            limit p.max_queued_deliveries_per_endpoint
          ) queued
        ) as free
      from (select distinct endpoint_id, org_id from matched) m
      join agentry.organisations o on o.id = m.org_id
      join agentry.plans p on p.id = o.plan
    )
    insert into agentry.webhook_deliveries (org_id, agent_id, endpoint_id, event_id, status, last_error)
    select m.org_id, m.agent_id, m.endpoint_id, m.event_id,
      case when m.nth <= r.free then 'pending' else 'dead' end,
      case when m.nth > r.free then format(
        'Not queued: this endpoint already has %s deliveries waiting, the most the %s plan allows. Retry it once the endpoint has caught up.',
        r.cap, r.plan_name) end
    from matched m join room r on r.endpoint_id = m.endpoint_id;
    if found then
      perform pg_notify('agentry_webhook_deliveries', '');
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.fan_out_events() from public;
