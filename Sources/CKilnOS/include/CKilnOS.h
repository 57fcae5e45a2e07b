#ifndef CKILNOS_H
#define CKILNOS_H

/// Atomically swaps two paths (Linux renameat2 with RENAME_EXCHANGE). 0 on success, -1 and errno otherwise.
int kiln_rename_exchange(const char *from, const char *to);

/// Renames `from` to `to` only if `to` does not exist (RENAME_NOREPLACE): never overwrites.
/// 0 on success, -1 and errno (EEXIST when `to` exists) otherwise.
int kiln_rename_noreplace(const char *from, const char *to);

#endif
