-- apply_history keeps what each apply did (action, address, changed field paths), not the whole plan
-- with every object's spec: that JSON was most of a second of a 23,000-object apply. Older rows are
-- converted from their plan, then the plan column goes.
alter table pgbackman.apply_history add column changes jsonb;

update pgbackman.apply_history as h
   set changes = coalesce(
     (select jsonb_agg(
               jsonb_strip_nulls(jsonb_build_object(
                 'action', case when c.value->'actions' ? 'move' then 'move' else c.value->'actions'->>0 end,
                 'address', c.value->'address',
                 'previous_address', c.value->'previous_address',
                 'fields', coalesce(
                   (select jsonb_agg(f.value->'path' order by f.ordinality)
                      from jsonb_array_elements(c.value->'fields') with ordinality as f),
                   '[]'::jsonb)))
               order by c.ordinality)
        from jsonb_array_elements(h.plan->'changes') with ordinality as c),
     '[]'::jsonb);

alter table pgbackman.apply_history
  alter column changes set not null,
  drop column plan;
