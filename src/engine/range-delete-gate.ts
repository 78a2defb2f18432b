/**
 * The one switch that keeps range deletes out of DB.write, db.deleteRange and tx.deleteRange until
 * reads AND compaction both honour range tombstones (a delete that compaction drops or resurrects is
 * worse than none). Reads honour them already; tests that exercise them set `writable` for their run.
 * Once compaction honours them, `writable` becomes true here and this file can go.
 */
export const rangeDeleteGate = { writable: false };
