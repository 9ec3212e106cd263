-- One endpoint's deliveries in flight, for the per-endpoint cap the dispatchers' claim applies.
--
-- A claim sets a delivery's lease and its outcome clears it, so each delivery leaves an entry in
-- webhook_deliveries_leased_idx that points at a dead row version until the table is vacuumed, and those
-- entries still look in flight for as long as the lease would have lasted. A bitmap scan, which the planner
-- picks for the few rows it expects, visits the heap for every one of them on every claim and never marks
-- them dead: at a thousand deliveries a second to one endpoint that is tens of thousands of visits a claim,
-- growing with the burst. A plain index scan marks each dead entry the first time it meets it, and later
-- claims step over it, so the count costs what is really in flight. A sequential scan would read the whole
-- table, which statistics that lag behind a burst can make look cheaper.
create or replace function agentry.webhook_endpoint_in_flight(endpoint uuid, at timestamptz)
  returns integer
  language sql stable
  set enable_bitmapscan = off
  set enable_seqscan = off
  set search_path = ''
  as $$
    select count(*)::integer from agentry.webhook_deliveries where endpoint_id = endpoint and locked_until > at
  $$;

revoke execute on function agentry.webhook_endpoint_in_flight(uuid, timestamptz) from public;
grant execute on function agentry.webhook_endpoint_in_flight(uuid, timestamptz) to service_role;
