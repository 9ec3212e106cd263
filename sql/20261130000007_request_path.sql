-- The request path without writes on every request. Each API process keeps verified credentials in memory
-- and asks the database only on a miss (verify_key, verify_member: reads only); it takes rate-limit tokens in
-- leased batches (lease_rate_tokens, return_rate_tokens) and writes key usage once a second
-- (record_key_usage). Whatever changes what a cached credential may do announces itself on one channel,
-- agentry_auth, from the triggers below; every process listens there and forgets what it held.

-- Every scope a route may require that `granted` allows, judged by scope_allows as the policies judge it:
-- the API then checks a route's scope against this list without asking again.
create or replace function agentry.allowed_scopes(granted text[], candidates text[]) returns text[]
  language sql immutable set search_path = ''
  as $$ select coalesce(array_agg(c), '{}') from unnest(candidates) as c where agentry.scope_allows(granted, c) $$;

-- Outcomes: ok, unknown, revoked, expired. Nothing is counted or written.
create or replace function agentry.verify_key(p_key_hash bytea, p_route_scopes text[])
  returns table (
    outcome text, key_id uuid, org_id uuid, agent_id uuid, mode text, scopes text[], expires_at timestamptz,
    org_name text, plan text, rate_limit integer, max_concurrent_requests integer, allowed_scopes text[])
  language plpgsql stable security definer set search_path = ''
  as $$
  declare
    k agentry.api_keys%rowtype;
  begin
    select * into k from agentry.api_keys where key_hash = p_key_hash;
    if not found then
      outcome := 'unknown';
      return next;
      return;
    end if;
    key_id := k.id; org_id := k.org_id; agent_id := k.agent_id; mode := k.mode; scopes := k.scopes;
    expires_at := k.expires_at;
    if k.status <> 'active' then
      outcome := 'revoked';
    elsif k.expires_at is not null and k.expires_at <= clock_timestamp() then
      outcome := 'expired';
    else
      outcome := 'ok';
      select o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute), p.max_concurrent_requests
        into org_name, plan, rate_limit, max_concurrent_requests
        from agentry.organisations o join agentry.plans p on p.id = o.plan
        where o.id = k.org_id;
      allowed_scopes := agentry.allowed_scopes(k.scopes, p_route_scopes);
    end if;
    return next;
  end
  $$;

-- A dashboard user (Supabase Auth JWT, already verified by the API) in one of their organisations. Owners
-- and admins hold full access; members may read. Outcomes: ok, not_member, org_required.
create or replace function agentry.verify_member(p_user_id uuid, p_org_id uuid, p_route_scopes text[])
  returns table (
    outcome text, org_id uuid, role text, scopes text[], org_name text, plan text, rate_limit integer,
    max_concurrent_requests integer, allowed_scopes text[])
  language plpgsql stable security definer set search_path = ''
  as $$
  declare
    m agentry.members%rowtype;
    memberships integer;
  begin
    if p_org_id is null then
      select count(*) into memberships from agentry.members where user_id = p_user_id;
      if memberships > 1 then
        outcome := 'org_required';
        return next;
        return;
      end if;
      select * into m from agentry.members where user_id = p_user_id;
    else
      select * into m from agentry.members where user_id = p_user_id and members.org_id = p_org_id;
    end if;
    if not found then
      outcome := 'not_member';
      return next;
      return;
    end if;
    outcome := 'ok';
    org_id := m.org_id; role := m.role;
    scopes := case when m.role in ('owner', 'admin') then array['*'] else array['*:read'] end;
    select o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute), p.max_concurrent_requests
      into org_name, plan, rate_limit, max_concurrent_requests
      from agentry.organisations o join agentry.plans p on p.id = o.plan
      where o.id = m.org_id;
    allowed_scopes := agentry.allowed_scopes(scopes, p_route_scopes);
    return next;
  end
  $$;

-- Hands a process up to p_wanted tokens from the organisation's sliding-window bucket (two fixed one-minute
-- windows, the previous one weighted by how much of it still overlaps the last sixty seconds), after first giving back p_returned unspent tokens of an earlier lease taken in the window
-- starting p_returned_window. A batch is at most a twentieth of the limit and a quarter of what is left, so
-- one process cannot sit on tokens another one needs; with nothing left, retry_after says how long until
-- one token is free. Tokens a lease holds count as used, so however many
-- processes hold leases, the bucket never admits more than the limit.
create or replace function agentry.lease_rate_tokens(
  p_org_id uuid, p_limit integer, p_wanted integer, p_returned integer, p_returned_window timestamptz,
  out granted integer, out remaining integer, out window_start timestamptz, out reset_at timestamptz,
  out window_ends_in_ms integer, out retry_after integer)
  language plpgsql security definer set search_path = ''
  as $$
  declare
    bucket agentry.rate_limits%rowtype;
    t timestamptz;
    w timestamptz;
    elapsed numeric;
    estimate numeric;
    available integer;
    wait numeric;
  begin
    perform set_config('synchronous_commit', 'off', true);
    select * into bucket from agentry.rate_limits where org_id = p_org_id for update;
    if not found then
      insert into agentry.rate_limits (org_id) values (p_org_id) on conflict (org_id) do nothing;
      select * into bucket from agentry.rate_limits where org_id = p_org_id for update;
    end if;

    t := clock_timestamp();
    w := date_trunc('minute', t);
    if w > bucket.window_start then
      bucket.previous_count := case when w = bucket.window_start + interval '1 minute' then bucket.current_count else 0 end;
      bucket.current_count := 0;
      bucket.window_start := w;
    end if;
    if p_returned > 0 then
      if p_returned_window = bucket.window_start then
        bucket.current_count := greatest(0, bucket.current_count - p_returned);
      elsif p_returned_window = bucket.window_start - interval '1 minute' then
        bucket.previous_count := greatest(0, bucket.previous_count - p_returned);
      end if;
    end if;

    elapsed := extract(epoch from t - w);
    estimate := bucket.previous_count * (60 - elapsed) / 60 + bucket.current_count;
    available := greatest(0, floor(p_limit - estimate))::integer;
    granted := least(greatest(p_wanted, 0), available, greatest(1, ceil(p_limit / 20.0)::integer), greatest(1, ceil(available / 4.0)::integer));

    if granted > 0 then
      bucket.current_count := bucket.current_count + granted;
      estimate := estimate + granted;
      retry_after := 0;
    elsif bucket.current_count + 1 <= p_limit then
      wait := 60 - (p_limit - 1 - bucket.current_count) * 60.0 / bucket.previous_count - elapsed;
      retry_after := greatest(1, ceil(wait));
    else
      wait := (60 - elapsed) + greatest(0, 60 - (p_limit - 1) * 60.0 / bucket.current_count);
      retry_after := greatest(1, ceil(wait));
    end if;

    update agentry.rate_limits
      set window_start = bucket.window_start, current_count = bucket.current_count, previous_count = bucket.previous_count
      where org_id = p_org_id;
    remaining := greatest(0, floor(p_limit - estimate));
    window_start := w;
    reset_at := w + interval '1 minute';
    window_ends_in_ms := ceil(extract(epoch from reset_at - t) * 1000);
  end
  $$;

-- Gives back the unspent tokens of ended leases, for several organisations at once (a process's periodic
-- sweep, and its shutdown). Tokens of a window that has since slid out entirely are simply dropped.
create or replace function agentry.return_rate_tokens(p_org_ids uuid[], p_windows timestamptz[], p_counts integer[])
  returns void
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform set_config('synchronous_commit', 'off', true);
    update agentry.rate_limits r
      set current_count = case when r.window_start = x.w then greatest(0, r.current_count - x.n) else r.current_count end,
          previous_count = case when r.window_start = x.w + interval '1 minute' then greatest(0, r.previous_count - x.n) else r.previous_count end
      from unnest(p_org_ids, p_windows, p_counts) as x (org_id, w, n)
      where r.org_id = x.org_id;
  end
  $$;

-- A process's batched usage: calls per key since its last flush and when the last one was made. Like the
-- bucket, not worth a synchronous WAL flush; a crash may lose the last second's counts.
create or replace function agentry.record_key_usage(p_key_ids uuid[], p_calls bigint[], p_last_used timestamptz[])
  returns void
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform set_config('synchronous_commit', 'off', true);
    update agentry.api_keys k
      set call_count = k.call_count + u.calls,
          last_used_at = greatest(coalesce(k.last_used_at, u.last_used), u.last_used)
      from (select * from unnest(p_key_ids, p_calls, p_last_used) as u (id, calls, last_used) order by id) as u
      where k.id = u.id;
  end
  $$;

-- What a cached credential depends on. The payload names what to forget: key:<id>, org:<id>, user:<id>,
-- plan:<id>. NOTIFY is sent at commit, so a listener never forgets before the change is visible.
create or replace function agentry.notify_auth_change() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    -- Each branch reads only its own table's columns: a record's fields are resolved when a statement runs.
    if tg_table_name = 'api_keys' then
      perform pg_notify('agentry_auth', 'key:' || coalesce(new.id, old.id));
    elsif tg_table_name = 'organisations' then
      perform pg_notify('agentry_auth', 'org:' || coalesce(new.id, old.id));
    elsif tg_table_name = 'plans' then
      perform pg_notify('agentry_auth', 'plan:' || coalesce(new.id, old.id));
    elsif tg_table_name = 'members' then
      if tg_op <> 'DELETE' then
        perform pg_notify('agentry_auth', 'user:' || new.user_id);
      end if;
      if tg_op <> 'INSERT' then
        perform pg_notify('agentry_auth', 'user:' || old.user_id);
      end if;
    end if;
    return null;
  end
  $$;

-- Usage counters (last_used_at, call_count) are updated every second and must not announce anything.
drop trigger if exists api_keys_auth_changed on agentry.api_keys;
create trigger api_keys_auth_changed after update of status, scopes, expires_at, org_id, agent_id, key_hash on agentry.api_keys
  for each row
  when (old.status is distinct from new.status or old.scopes is distinct from new.scopes
        or old.expires_at is distinct from new.expires_at or old.org_id is distinct from new.org_id
        or old.agent_id is distinct from new.agent_id or old.key_hash is distinct from new.key_hash)
  execute function agentry.notify_auth_change();
drop trigger if exists api_keys_auth_deleted on agentry.api_keys;
create trigger api_keys_auth_deleted after delete on agentry.api_keys
  for each row execute function agentry.notify_auth_change();

-- The name is cached too: GET /me returns it.
drop trigger if exists organisations_auth_changed on agentry.organisations;
create trigger organisations_auth_changed after update of name, plan, rate_limit_per_minute on agentry.organisations
  for each row
  when (old.name is distinct from new.name or old.plan is distinct from new.plan
        or old.rate_limit_per_minute is distinct from new.rate_limit_per_minute)
  execute function agentry.notify_auth_change();
drop trigger if exists organisations_auth_deleted on agentry.organisations;
create trigger organisations_auth_deleted after delete on agentry.organisations
  for each row execute function agentry.notify_auth_change();

drop trigger if exists plans_auth_changed on agentry.plans;
create trigger plans_auth_changed after update or delete on agentry.plans
  for each row execute function agentry.notify_auth_change();

-- A new membership matters too: a user with one organisation may omit X-Org-Id until they have two.
drop trigger if exists members_auth_changed on agentry.members;
create trigger members_auth_changed after insert or update or delete on agentry.members
  for each row execute function agentry.notify_auth_change();

revoke execute on function agentry.verify_key(bytea, text[]) from public;
revoke execute on function agentry.verify_member(uuid, uuid, text[]) from public;
revoke execute on function agentry.lease_rate_tokens(uuid, integer, integer, integer, timestamptz) from public;
revoke execute on function agentry.return_rate_tokens(uuid[], timestamptz[], integer[]) from public;
revoke execute on function agentry.record_key_usage(uuid[], bigint[], timestamptz[]) from public;
grant execute on function agentry.verify_key(bytea, text[]) to service_role;
grant execute on function agentry.verify_member(uuid, uuid, text[]) to service_role;
grant execute on function agentry.lease_rate_tokens(uuid, integer, integer, integer, timestamptz) to service_role;
grant execute on function agentry.return_rate_tokens(uuid[], timestamptz[], integer[]) to service_role;
grant execute on function agentry.record_key_usage(uuid[], bigint[], timestamptz[]) to service_role;
