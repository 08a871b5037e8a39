UPDATE dossiers SET facts = facts & ~4096;
