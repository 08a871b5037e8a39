//! Reports: the monthly dossier report (form II.06a of Circular 01/2020/TT-VPCP) and the
//! reporting duties whose misses cost PAR-index points.

pub mod duties;
pub mod ii06a;
