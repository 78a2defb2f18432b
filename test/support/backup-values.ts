/** Value lengths for the backup crash test: the child (backup-writer.ts) writes them, the parent checks them. */
export function backupValueLength(i: number): number {
  return 50 + ((i * 37) % 250);
}
