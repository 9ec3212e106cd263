-- The audit log cannot be rewritten: no UPDATE, DELETE or TRUNCATE for anyone, the service role and the table's
-- owner included, except deleting entries older than the retention (agentry.prune_audit_log) and the entries
-- of an organisation that is itself being deleted. Each organisation's entries form a hash chain, so an entry
-- changed or removed behind the triggers' back (by a superuser who disables them) is found by
-- GET /audit-logs/verify. A route that answers other than the status its entry recorded appends a correction
-- (`corrects`) instead of changing the entry.

alter table agentry.audit_log add column if not exists seq bigint;
alter table agentry.audit_log add column if not exists prev_hash bytea;
alter table agentry.audit_log add column if not exists hash bytea;
alter table agentry.audit_log add column if not exists corrects bigint;

-- How long an entry is kept before it may be pruned.
create or replace function agentry.audit_log_retention() returns interval
  language sql immutable set search_path = ''
  as $$ select interval '365 days' $$;

-- The text an entry's hash covers: every field of its content in a fixed order, its time in UTC to the
-- microsecond, so the same entry gives the same text whatever the session's time zone.
create or replace function agentry.audit_entry_content(e agentry.audit_log) returns text
  language sql stable set search_path = ''
  as $$
    select jsonb_build_array(
      e.org_id, e.seq, e.key_id, e.user_id, e.agent_id, e.method, e.path, e.status, e.request_id,
      to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), e.corrects)::text
  $$;

create or replace function agentry.audit_entry_hash(prev_hash bytea, e agentry.audit_log) returns bytea
  language sql stable set search_path = ''
  as $$ select sha256(prev_hash || convert_to(agentry.audit_entry_content(e), 'UTF8')) $$;

-- The link before an organisation's first entry.
create or replace function agentry.audit_chain_origin() returns bytea
  language sql immutable set search_path = ''
  as $$ select '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea $$;

-- Entries written before the chain existed are chained in the order they were written.
do $$
declare
  e agentry.audit_log;
  current_org uuid;
  last_seq bigint;
  last_hash bytea;
begin
  for e in select * from agentry.audit_log where hash is null order by org_id, id loop
    if current_org is distinct from e.org_id then
      current_org := e.org_id;
      select a.seq, a.hash into last_seq, last_hash
      from agentry.audit_log a where a.org_id = e.org_id and a.hash is not null order by a.seq desc limit 1;
      last_seq := coalesce(last_seq, 0);
      last_hash := coalesce(last_hash, agentry.audit_chain_origin());
    end if;
    e.seq := last_seq + 1;
    e.prev_hash := last_hash;
    e.hash := agentry.audit_entry_hash(e.prev_hash, e);
    update agentry.audit_log set seq = e.seq, prev_hash = e.prev_hash, hash = e.hash where id = e.id;
    last_seq := e.seq;
    last_hash := e.hash;
  end loop;
end $$;

alter table agentry.audit_log alter column seq set not null;
alter table agentry.audit_log alter column prev_hash set not null;
alter table agentry.audit_log alter column hash set not null;

-- One link per place in an organisation's chain: two writers that somehow read the same head cannot both commit.
create unique index if not exists audit_log_chain_idx on agentry.audit_log (org_id, seq);
-- Listing pages by id within the organisation, by key, by agent (which is also what an agent key's rows are).
create index if not exists audit_log_org_id_idx on agentry.audit_log (org_id, id);
create index if not exists audit_log_key_idx on agentry.audit_log (org_id, key_id, id) where key_id is not null;
create index if not exists audit_log_agent_idx on agentry.audit_log (org_id, agent_id, id) where agent_id is not null;
create index if not exists audit_log_user_idx on agentry.audit_log (org_id, user_id, id) where user_id is not null;
create index if not exists audit_log_corrects_idx on agentry.audit_log (corrects) where corrects is not null;

-- Links a new entry to its organisation's last one. The lock is per organisation and held to the end of the
-- writing transaction, which writes its entry just before COMMIT: organisations never wait for each other.
create or replace function agentry.chain_audit_entry() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    last_seq bigint;
    last_hash bytea;
  begin
    perform pg_advisory_xact_lock(1635083636, hashtext(new.org_id::text));
    select a.seq, a.hash into last_seq, last_hash
    from agentry.audit_log a where a.org_id = new.org_id order by a.seq desc limit 1;
    new.seq := coalesce(last_seq, 0) + 1;
    new.prev_hash := coalesce(last_hash, agentry.audit_chain_origin());
    new.hash := agentry.audit_entry_hash(new.prev_hash, new);
    return new;
  end $$;
drop trigger if exists chain_audit_entry on agentry.audit_log;
create trigger chain_audit_entry before insert on agentry.audit_log
  for each row execute function agentry.chain_audit_entry();

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
    raise exception 'the audit log is append-only: entries are kept for %', agentry.audit_log_retention()
      using errcode = 'insufficient_privilege';
  end $$;
drop trigger if exists keep_audit_log on agentry.audit_log;
create trigger keep_audit_log before update or delete on agentry.audit_log
  for each row execute function agentry.keep_audit_log();
drop trigger if exists keep_audit_log_whole on agentry.audit_log;
create trigger keep_audit_log_whole before truncate on agentry.audit_log
  for each statement execute function agentry.keep_audit_log();

-- Deletes the entries written before `before`, which must lie outside the retention window. Returns how many went.
create or replace function agentry.prune_audit_log(before timestamptz) returns bigint
  language plpgsql security definer set search_path = ''
  as $$
  declare
    pruned bigint;
  begin
    if before is null or before > now() - agentry.audit_log_retention() then
      raise exception 'audit entries are kept for %: prune only before %', agentry.audit_log_retention(),
        now() - agentry.audit_log_retention()
        using errcode = 'insufficient_privilege';
    end if;
    delete from agentry.audit_log where created_at < before;
    get diagnostics pruned = row_count;
    return pruned;
  end $$;
revoke execute on function agentry.prune_audit_log(timestamptz) from public;
grant execute on function agentry.prune_audit_log(timestamptz) to service_role;

-- Checks up to `batch` links of the caller's organisation's chain after `after_seq` and up to `until_seq` (its
-- head when null). `prev_hash` is the hash of the entry at `after_seq`, null at the start of the walk: the first
-- entry then links to the chain's origin, or, when older entries were pruned, is taken as the anchor.
-- Whole-chain work for any reader of the log, agent keys included, who otherwise see only their own rows.
create or replace function agentry.verify_audit_chain(after_seq bigint, prev_hash bytea, until_seq bigint, batch integer)
  returns table (checked integer, last_seq bigint, last_hash bytea, head_seq bigint, broken_id bigint, broken_created_at timestamptz)
  language plpgsql stable security definer set search_path = ''
  as $$
  declare
    org uuid := agentry.claim_org_id();
    e agentry.audit_log;
    expected bytea := prev_hash;
  begin
    if org is null or not agentry.claim_has_scope('audit-logs:read') then
      raise exception 'audit-logs:read is required' using errcode = 'insufficient_privilege';
    end if;
    head_seq := coalesce(until_seq, (select max(a.seq) from agentry.audit_log a where a.org_id = org), 0);
    checked := 0;
    last_seq := after_seq;
    last_hash := prev_hash;
    for e in
      select * from agentry.audit_log a
      where a.org_id = org and a.seq > after_seq and a.seq <= head_seq
      order by a.seq limit batch
    loop
      checked := checked + 1;
      if (expected is not null and e.prev_hash <> expected)
        or (expected is null and e.seq = 1 and e.prev_hash <> agentry.audit_chain_origin())
        or e.hash <> agentry.audit_entry_hash(e.prev_hash, e) then
        broken_id := e.id;
        broken_created_at := e.created_at;
        return next;
        return;
      end if;
      expected := e.hash;
      last_seq := e.seq;
      last_hash := e.hash;
    end loop;
    return next;
  end $$;
revoke execute on function agentry.verify_audit_chain(bigint, bytea, bigint, integer) from public;
grant execute on function agentry.verify_audit_chain(bigint, bytea, bigint, integer) to authenticated;
