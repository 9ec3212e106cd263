-- The clock a test can set (functions/_core/clock.ts). The functions that read the time on the request path
-- take it as an optional last parameter: null (always, in production) reads Postgres's own clock as before.
-- Only the API's own statements pass it, from its clock, never from a request; and only service_role may call
-- either function, so no tenant can pick the time its key expires or its rate window turns. A setting read
-- with current_setting would not do: whoever runs SQL, in any role, may set_config one in their transaction.

drop function if exists agentry.verify_key(bytea, text[]);
drop function if exists agentry.lease_rate_tokens(uuid, integer, integer, integer, timestamptz);

create or replace function agentry.verify_key(p_key_hash bytea, p_route_scopes text[], p_now timestamptz default null)
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
    elsif k.expires_at is not null and k.expires_at <= coalesce(p_now, clock_timestamp()) then
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

create or replace function agentry.lease_rate_tokens(
  p_org_id uuid, p_limit integer, p_wanted integer, p_returned integer, p_returned_window timestamptz,
  p_now timestamptz default null,
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

    t := coalesce(p_now, clock_timestamp());
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

revoke execute on function agentry.verify_key(bytea, text[], timestamptz) from public;
revoke execute on function agentry.lease_rate_tokens(uuid, integer, integer, integer, timestamptz, timestamptz) from public;
grant execute on function agentry.verify_key(bytea, text[], timestamptz) to service_role;
grant execute on function agentry.lease_rate_tokens(uuid, integer, integer, integer, timestamptz, timestamptz) to service_role;
