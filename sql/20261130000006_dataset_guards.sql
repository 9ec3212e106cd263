-- Guards on what all tenants' datasets share: the rows table, whose partitions one tenant's deletion must not
-- lock for everyone, and the number of datasets (each a partition with its indexes) a plan allows.

-- Deleting a dataset no longer drops its partition in the deleting transaction: DROP TABLE on a partition
-- takes an ACCESS EXCLUSIVE lock on the parent, which queues every tenant's dataset reads and writes behind
-- it. The deletion only marks the partition here; the API then detaches it CONCURRENTLY (which locks the
-- parent SHARE UPDATE EXCLUSIVE only, letting reads and writes of other datasets through) and drops the
-- detached table (functions/datasets/deleted-partitions.ts). DETACH … CONCURRENTLY cannot run inside a
-- transaction, hence the two steps, and a marker outliving a crash between them is swept up later. From the
-- moment the deletion commits, the rows are out of every tenant's reach: row queries read through
-- visible_dataset_rows, which joins the datasets, and row writes need the dataset (prepare_dataset_row).
create table if not exists agentry.deleted_dataset_partitions (
  partition text primary key check (partition ~ '^dataset_rows_[0-9a-f]{32}$'),
  dataset_id uuid not null,
  deleted_at timestamptz not null default now()
);
-- Operator bookkeeping: no tenant policy, no grant.
alter table agentry.deleted_dataset_partitions enable row level security;

create or replace function agentry.mark_dataset_partition_deleted() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into agentry.deleted_dataset_partitions (partition, dataset_id)
      values (agentry.dataset_partition(old.id), old.id)
      on conflict (partition) do nothing;
    return null;
  end
  $$;
revoke execute on function agentry.mark_dataset_partition_deleted() from public;
drop trigger if exists datasets_drop_partition on agentry.datasets;
drop trigger if exists datasets_partition_deleted on agentry.datasets;
create trigger datasets_partition_deleted after delete on agentry.datasets
  for each row execute function agentry.mark_dataset_partition_deleted();
drop function if exists agentry.drop_dataset_partition();

-- An organisation holds at most its plan's max_datasets. Enforced on every insert, whoever makes it; the
-- lock makes concurrent creations in one organisation count one after the other, so a race cannot pass the
-- cap (each count, taken after the lock, sees the datasets the previous holder committed). The API reads
-- the cap, the plan and the count from the error's detail to say so in its own words.
create or replace function agentry.check_dataset_cap() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    plan_name text;
    cap integer;
    held bigint;
  begin
    perform pg_advisory_xact_lock(hashtext('agentry.datasets'), hashtext(new.org_id::text));
    select p.name, p.max_datasets into plan_name, cap
      from agentry.organisations o join agentry.plans p on p.id = o.plan
      where o.id = new.org_id;
    select count(*) into held from agentry.datasets where org_id = new.org_id;
    if held >= cap then
      raise exception 'organisation % has % datasets, the most its plan allows', new.org_id, held
        using errcode = 'check_violation', constraint = 'max_datasets',
              detail = json_build_object('plan', plan_name, 'max_datasets', cap, 'datasets', held)::text;
    end if;
    return new;
  end
  $$;
revoke execute on function agentry.check_dataset_cap() from public;
drop trigger if exists datasets_cap on agentry.datasets;
create trigger datasets_cap before insert on agentry.datasets
  for each row execute function agentry.check_dataset_cap();
