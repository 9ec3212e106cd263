-- Attachments: the plan's storage quota on uploads, and the secret download links are signed with when the
-- operator sets none (ATTACHMENT_URL_SECRET).

-- An upload (an attachment with no message yet) is refused when it would take its organisation past its
-- plan's max_attachment_bytes, counting everything the organisation stores, received mail included. Mail
-- that arrives is never refused for the quota: losing a message would be worse than passing it. The lock
-- makes concurrent uploads of one organisation count one after the other. The API reads the plan, the
-- quota and the counts from the error's detail to say so in its own words.
create or replace function agentry.check_attachment_quota() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    plan_name text;
    quota bigint;
    stored bigint;
  begin
    perform pg_advisory_xact_lock(hashtext('agentry.email_attachments'), hashtext(new.org_id::text));
    select p.name, p.max_attachment_bytes into plan_name, quota
      from agentry.organisations o join agentry.plans p on p.id = o.plan
      where o.id = new.org_id;
    select coalesce(sum(size_bytes), 0) into stored from agentry.email_attachments where org_id = new.org_id;
    if quota is not null and stored + new.size_bytes > quota then
      raise exception 'organisation % stores % bytes of attachments, % more would pass its quota', new.org_id, stored, new.size_bytes
        using errcode = 'check_violation', constraint = 'max_attachment_bytes',
              detail = json_build_object('plan', plan_name, 'max_attachment_bytes', quota, 'stored_bytes', stored,
                'size_bytes', new.size_bytes)::text;
    end if;
    return new;
  end
  $$;
revoke execute on function agentry.check_attachment_quota() from public;
drop trigger if exists email_attachments_quota on agentry.email_attachments;
create trigger email_attachments_quota before insert on agentry.email_attachments
  for each row when (new.message_id is null) execute function agentry.check_attachment_quota();

-- Secrets the service makes for itself, once per database (the attachment download links' signing key when
-- ATTACHMENT_URL_SECRET is unset): every process serving the database reads the same. No tenant role may
-- read them: RLS is on with no policy, and the grants are the service's alone.
create table if not exists agentry.service_secrets (
  name text primary key,
  value text not null,
  created_at timestamptz not null default now()
);
alter table agentry.service_secrets enable row level security;
revoke all on agentry.service_secrets from public;
revoke all on agentry.service_secrets from anon, authenticated;
grant select, insert on agentry.service_secrets to service_role;
