UPDATE dossiers SET facts = facts & ~64
WHERE json_extract(data, '$.vneidVerified') = 1
  AND coalesce(json_extract(data, '$.populationDbUsed'), 0) = 0;
