-- Runs throughput (issue 16). The audit log's hash chain no longer sits on the request path: every audited
-- write of an organisation used to take that organisation's chain lock and hold it to its COMMIT, so one
-- organisation's writes (a burst of run triggers) passed one at a time. A write now inserts its entry
-- unsealed (no seq, prev_hash or hash), and a sealer links the committed unsealed entries of an organisation
-- in one batch under the lock, in the order they became visible to it: the job runners' sweep (every second)
-- and GET /audit-logs/verify (before it walks). A sealed entry is as tamper-evident as before; an unsealed
-- one is only append-only until its seal, which verify reports by number.

alter table agentry.audit_log alter column seq drop not null;
alter table agentry.audit_log alter column prev_hash drop not null;
alter table agentry.audit_log alter column hash drop not null;

-- What the sealer looks for: few rows at any time, each organisation's in the order they were written.
create index if not exists audit_log_unsealed_idx on agentry.audit_log (org_id, id) where hash is null;

-- A new entry is always unsealed: only the sealer gives it its place in the chain.
create or replace function agentry.chain_audit_entry() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    new.seq := null;
    new.prev_hash := null;
    new.hash := null;
    return new;
  end $$;

-- Append-only as before, except sealing: filling in an unsealed entry's seq, prev_hash and hash, once, with
-- nothing else about it changed.
create or replace function agentry.keep_audit_log() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if tg_op = 'DELETE' and (
      old.created_at < now() - agentry.audit_log_retention()
      -- Deleting the organisation itself takes its log with it (the foreign key cascades).
      or not exists (select 1 from agentry.organisations o where o.id = old.org_id)
    ) then
      return old;
    end if;
    if tg_op = 'UPDATE' and old.hash is null and old.seq is null and new.seq is not null and new.hash is not null
       and new.prev_hash is not null
       -- Every other column (one added to the log must be added here too).
       and (new.id, new.org_id, new.key_id, new.user_id, new.agent_id, new.method, new.path, new.status, new.request_id,
            new.created_at, new.corrects)
           is not distinct from
           (old.id, old.org_id, old.key_id, old.user_id, old.agent_id, old.method, old.path, old.status, old.request_id,
            old.created_at, old.corrects) then
      return new;
    end if;
    raise exception 'the audit log is append-only: entries are kept for %', agentry.audit_log_retention()
      using errcode = 'insufficient_privilege';
  end $$;

-- Seals the committed unsealed entries of one organisation (p_org), or of every organisation whose chain no
-- other sealer holds at the moment (null), up to p_batch an organisation. Returns how many it sealed.
create or replace function agentry.seal_audit_log(p_org uuid default null, p_batch integer default 10000) returns bigint
  language plpgsql security definer set search_path = ''
  as $$
  declare
    o uuid;
    e agentry.audit_log;
    last_seq bigint;
    last_hash bytea;
    ids bigint[];
    seqs bigint[];
    prevs bytea[];
    hashes bytea[];
    sealed bigint := 0;
  begin
    for o in
      select distinct a.org_id from agentry.audit_log a
      where a.hash is null and (p_org is null or a.org_id = p_org)
    loop
      if p_org is null then
        continue when not pg_try_advisory_xact_lock(1635083636, hashtext(o::text));
      else
        perform pg_advisory_xact_lock(1635083636, hashtext(o::text));
      end if;
      select a.seq, a.hash into last_seq, last_hash
      from agentry.audit_log a where a.org_id = o and a.seq is not null order by a.seq desc limit 1;
      last_seq := coalesce(last_seq, 0);
      last_hash := coalesce(last_hash, agentry.audit_chain_origin());
      ids := '{}';
      seqs := '{}';
      prevs := '{}';
      hashes := '{}';
      for e in
        select * from agentry.audit_log a where a.org_id = o and a.hash is null order by a.id limit p_batch
      loop
        e.seq := last_seq + 1;
        e.prev_hash := last_hash;
        e.hash := agentry.audit_entry_hash(e.prev_hash, e);
        ids := ids || e.id;
        seqs := seqs || e.seq;
        prevs := prevs || e.prev_hash;
        hashes := hashes || e.hash;
        last_seq := e.seq;
        last_hash := e.hash;
      end loop;
      update agentry.audit_log a set seq = s.seq, prev_hash = s.prev_hash, hash = s.hash
      from unnest(ids, seqs, prevs, hashes) as s(id, seq, prev_hash, hash)
      where a.id = s.id and a.hash is null;
      sealed := sealed + coalesce(array_length(ids, 1), 0);
    end loop;
    return sealed;
  end $$;
revoke execute on function agentry.seal_audit_log(uuid, integer) from public;
grant execute on function agentry.seal_audit_log(uuid, integer) to service_role;

-- How many of the caller's organisation's entries are not sealed yet: for GET /audit-logs/verify, which
-- reports the whole log whoever reads it, agent keys included.
create or replace function agentry.audit_unsealed_count() returns bigint
  language plpgsql stable security definer set search_path = ''
  as $$
  declare
    org uuid := agentry.claim_org_id();
  begin
    if org is null or not agentry.claim_has_scope('audit-logs:read') then
      raise exception 'audit-logs:read is required' using errcode = 'insufficient_privilege';
    end if;
    return (select count(*) from agentry.audit_log a where a.org_id = org and a.hash is null);
  end $$;
revoke execute on function agentry.audit_unsealed_count() from public;
grant execute on function agentry.audit_unsealed_count() to authenticated;

-- Marks several attempts succeeded at once (a runner's jobs that ended together); answers the ids of those
-- that were still their job's running attempt, the others being left as they are.
create or replace function agentry.complete_jobs(p_ids uuid[], p_attempts integer[], p_now timestamptz default null)
  returns setof uuid
  language sql volatile security definer set search_path = ''
  as $$
    update agentry.jobs j
    set status = 'succeeded', finished_at = coalesce(p_now, clock_timestamp()), lease_until = null, last_error = null
    from unnest(p_ids, p_attempts) as d(id, attempt)
    where j.id = d.id and j.attempt = d.attempt and j.status = 'running'
    returning j.id
  $$;
revoke execute on function agentry.complete_jobs(uuid[], integer[], timestamptz) from public;
grant execute on function agentry.complete_jobs(uuid[], integer[], timestamptz) to service_role;
