-- Indexing knowledge items: what embedding models cost, so that the usage ledger prices the embeddings the
-- indexing job and queries ask for (provider 'embeddings', input tokens only). Prices per million tokens,
-- in US dollars, as the providers list them.
insert into agentry.model_prices (model, input_per_million, output_per_million) values
  ('text-embedding-3-small', 0.02, 0),
  ('text-embedding-3-large', 0.13, 0),
  ('text-embedding-ada-002', 0.10, 0)
on conflict (model) do nothing;
