UPDATE dossiers SET facts = facts & ~64
WHERE data LIKE '%"vneidVerified":true%'
  AND (data::jsonb ->> 'vneidVerified') = 'true'
  AND coalesce(data::jsonb ->> 'populationDbUsed', 'false') <> 'true';
